export * from './sniff-image';
export * from './probe-mp4';
export * from './mp4-scanner';
