import { Controller, Get, Header } from '@nestjs/common';
import { DOCS_PAGE } from './docs-page';
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
  @Header('Content-Security-Policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
  docs(): string {
    return DOCS_PAGE;
  }
}
