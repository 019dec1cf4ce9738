import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { notFound } from '../errors/api-exception';

/** Files next to this module (the build copies src/web/static to dist/web/static). */
const STATIC_DIR = join(__dirname, 'static');
const FILES: Record<string, string> = { 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' };
const CSP = "default-src 'self'; media-src 'self' blob:; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The web page at `/` and its script and style, read once at start-up. */
@Controller()
export class WebPageController {
  private readonly files = new Map<string, Buffer>(['index.html', ...Object.keys(FILES)].map((f) => [f, readFileSync(join(STATIC_DIR, f))]));

  @Get()
  page(@Res() res: Response): void {
    res.status(200).set({ 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' }).send(this.files.get('index.html'));
  }

  @Get('web/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    // Own keys only: `__proto__` or `constructor` must not name a file.
    if (!Object.hasOwn(FILES, file)) throw notFound('file');
    const type = FILES[file];
    res.status(200).set({ 'Content-Type': type, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' }).send(this.files.get(file));
  }
}
