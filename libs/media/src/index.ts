export * from './sniff-image';
export * from './probe-mp4';
