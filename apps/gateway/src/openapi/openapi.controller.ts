import { Controller, Get, Header } from '@nestjs/common';
import { DOCS_CSP, DOCS_PAGE } from './docs-page';
import { buildOpenApiDocument } from './openapi-document';

@Controller()
export class OpenApiController {
  private readonly document = buildOpenApiDocument();

  @Get('openapi.json')
  @Header('Cache-Control', 'no-cache')
  openapi() {
    return this.document;
  }

  @Get('docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', DOCS_CSP)
  @Header('X-Content-Type-Options', 'nosniff')
  docs(): string {
    return DOCS_PAGE;
  }
}
