#!/usr/bin/env node
// Installs dependencies when missing and builds every project (Nx skips what is already built).
import { ensureDependencies, run } from './lib/preflight.mjs';

ensureDependencies();
run('npx nx run-many -t build --output-style=static');
