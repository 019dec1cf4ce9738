export * from './job-view/job-view-projection';
