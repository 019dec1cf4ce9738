import { Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  detailsFromIssues,
  isTerminal,
  OpenAIListVideosQuery,
  OpenAIRemixVideo,
  OpenAIVideoContentQuery,
  SubmitJobRequest,
  type ErrorDetail,
  type OpenAIVideo,
  type OpenAIVideoDeleted,
  type OpenAIVideoList,
  type ReferenceImage,
} from '@reelay/contracts';
import { retiredModelMessage } from '@reelay/catalog';
import { jobIdForIdempotencyKey, toPublicJob } from '@reelay/job-domain';
import type { Request, Response } from 'express';
import { CurrentUser } from '../auth/current-user';
import { ApiException, invalidRequest } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { correlationIdOf } from '../http/correlation';
import { parseQuery } from '../http/parse-query';
import { IntakeClient } from '../intake/intake-client';
import { serveOutput } from '../job-content/serve-output';
import { JobReader } from '../jobs/job-reader';
import { answerForUsedKey } from '../jobs/used-key-answer';
import { readJsonBody } from '../http/read-body';
import { submitAgain } from '../regenerate-job/regenerate-job.controller';
import { validIdempotencyKey } from '../http/idempotency-key';
import { PosterMaker } from '../job-poster/poster-maker';
import { servePoster } from '../job-poster/serve-poster';
import { storeAsset } from '../upload-asset/store-asset';
import { assertAssetSize, readCreateVideoInput, type CreateVideoInput } from './create-video-input';
import { defaultSeconds, parseSize, resolveModel, SUPPORTED_SIZES, toOpenAIVideo, undatedModel } from './video-mapping';
import { queryVideoPage } from './video-list-query';

const invalidParam = (path: string, message: string) => invalidRequest(`Invalid value for ${path}.`, [{ path, message }]);

/**
 * OpenAI's Videos API over reelay jobs (api.md "OpenAI-compatible videos"): a video is a job, its id
 * the job id. Errors leave in OpenAI's envelope (AllExceptionsFilter).
 */
@Controller('v1/videos')
export class VideosController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly intake: IntakeClient,
    private readonly jobs: JobReader,
    private readonly posters: PosterMaker,
  ) {}

  @Post()
  @HttpCode(200)
  async create(
    @CurrentUser() userId: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<OpenAIVideo> {
    const key = validIdempotencyKey(idempotencyKey);
    try {
      return await this.createVideo(userId, req, res, key);
    } catch (err) {
      // As on POST /v1/jobs: a body refused under a used key is another request, and 409 comes first.
      if (err instanceof ApiException && err.code === 'invalid_request') await answerForUsedKey(this.jobs, userId, key);
      throw err;
    }
  }

  private async createVideo(userId: string, req: Request, res: Response, key: string | undefined): Promise<OpenAIVideo> {
    const input = await readCreateVideoInput(req, this.deps.config);
    const { body } = input;
    // A retry of a recorded request is intake's to answer (its job, or 409 for another body), even
    // when today's catalog would refuse it (a model retired since): the key is checked first.
    let recorded: Promise<boolean> | undefined;
    const isRetry = () => key !== undefined && (recorded ??= this.jobs.exists(jobIdForIdempotencyKey(userId, key), userId));
    // Without a model (or seconds), a keyed retry means what its recorded request was given (the
    // defaults then): today's may be others, which would read as a different request (409).
    const recordedJob = (body.model === undefined || body.seconds === undefined) && (await isRetry()) ? (await this.jobs.loadOwned(jobIdForIdempotencyKey(userId, key!), userId)).state : null;
    const recordedDefault = body.model === undefined ? (recordedJob?.model ?? null) : null;
    const model = recordedDefault ?? resolveModel(this.deps.catalog, body.model) ?? (body.model !== undefined && (await isRetry()) ? undatedModel(body.model) : null);
    if (!model) {
      const retiredOn = body.model === undefined ? null : this.deps.catalog.retiredOn(undatedModel(body.model));
      throw invalidParam('model', retiredOn ? retiredModelMessage(undatedModel(body.model!), retiredOn) : `Unknown model "${body.model ?? ''}". See GET /v1/models.`);
    }
    const size = body.size ?? '720x1280';
    const settings = parseSize(size);
    if (!settings) throw invalidParam('size', `Supported values are: ${SUPPORTED_SIZES.map((s) => `'${s}'`).join(', ')}.`);
    const draft = { model, prompt: body.prompt, aspectRatio: settings.aspectRatio, durationSeconds: body.seconds !== undefined ? Number(body.seconds) : (recordedJob?.durationSeconds ?? defaultSeconds(this.deps.catalog.get(model)?.durations)), resolution: settings.resolution };
    const hasReference = input.file !== undefined || body.input_reference !== undefined;
    // Checked before any upload is stored; intake checks again against the log's catalog.
    const problems: ErrorDetail[] = this.deps.catalog.unsupportedSettings({ ...draft, referenceImage: hasReference ? { url: 'https://reference.invalid/' } : undefined });
    if (problems.length && !(await isRetry())) {
      const seconds = problems.find((p) => p.path === 'durationSeconds');
      const message = seconds ? `Invalid value: '${body.seconds ?? draft.durationSeconds}'.` : 'The model cannot generate this video.';
      throw invalidRequest(message, problems);
    }
    const referenceImage = await this.referenceImage(userId, input);
    const request = SubmitJobRequest.safeParse({ ...draft, ...(referenceImage ? { referenceImage } : {}) });
    if (!request.success) throw invalidRequest('The request is not valid.', detailsFromIssues(request.error.issues));
    const job = await this.intake.submit({ userId, request: request.data, idempotencyKey: key, correlationId: correlationIdOf(req) });
    res.setHeader('Location', `/v1/videos/${job.id}`);
    return toOpenAIVideo(job);
  }

  @Get()
  async list(@CurrentUser() userId: string, @Query() query: Record<string, unknown>): Promise<OpenAIVideoList> {
    const page = await queryVideoPage(this.deps.dataSource, { userId, ...parseQuery(OpenAIListVideosQuery, query) });
    if (!page) throw invalidParam('after', 'No video with this id.');
    const data = page.jobs.map(toOpenAIVideo);
    return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: page.hasMore };
  }

  @Get(':id')
  async retrieve(@CurrentUser() userId: string, @Param('id') id: string, @Res({ passthrough: true }) res: Response): Promise<OpenAIVideo> {
    const { state } = await this.jobs.loadOwned(id, userId);
    res.setHeader('Cache-Control', 'no-cache');
    if (!isTerminal(state.status)) res.setHeader('openai-poll-after-ms', '1000'); // the Python SDK's poll helper waits this long
    return toOpenAIVideo(toPublicJob(state));
  }

  /**
   * OpenAI deletes a video and its files. reelay's job log is append-only, so the job stays: an
   * unfinished video is canceled, a completed one has its file deleted (its content answers 410
   * from then on), both `deleted: true`; a failed or canceled one has nothing to delete
   * (`deleted: false`).
   */
  @Delete(':id')
  async remove(@CurrentUser() userId: string, @Param('id') id: string, @Req() req: Request): Promise<OpenAIVideoDeleted> {
    const { state } = await this.jobs.loadOwned(id, userId);
    const command = { userId, jobId: id, correlationId: correlationIdOf(req) };
    if (isTerminal(state.status) && state.status !== 'succeeded') return { id, object: 'video.deleted', deleted: false };
    const deleted = (ask: () => Promise<unknown>) =>
      ask().then(
        () => true,
        (err: unknown) => {
          if (err instanceof ApiException && err.code === 'invalid_state') return false;
          throw err;
        },
      );
    if (state.status === 'succeeded') return { id, object: 'video.deleted', deleted: await deleted(() => this.intake.deleteOutput(command)) };
    // Refused: it finished between the read and the cancel; one that completed has its file deleted instead.
    const canceled = await deleted(() => this.intake.cancel(command));
    return { id, object: 'video.deleted', deleted: canceled || (await deleted(() => this.intake.deleteOutput(command))) };
  }

  /** OpenAI's remix: a completed video generated again with a new prompt, the rest as it was; `remixed_from_video_id` names it. */
  @Post(':id/remix')
  @HttpCode(200)
  async remix(
    @CurrentUser() userId: string,
    @Param('id') id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<OpenAIVideo> {
    const key = validIdempotencyKey(idempotencyKey);
    const body = OpenAIRemixVideo.safeParse(await readJsonBody(req, this.deps.config.JSON_BODY_LIMIT_BYTES));
    if (!body.success) {
      // As on regenerate: a body failing the checks under a used key is another request (409).
      await answerForUsedKey(this.jobs, userId, key);
      throw invalidRequest('The request body is not valid.', detailsFromIssues(body.error.issues));
    }
    const { state } = await this.jobs.loadOwned(id, userId);
    if (state.status !== 'succeeded') throw new ApiException('invalid_state', `Only a completed video can be remixed; this one is ${toOpenAIVideo(toPublicJob(state)).status}.`);
    const job = await submitAgain(this.intake, this.jobs, state, { prompt: body.data.prompt }, { userId, idempotencyKey: key, correlationId: correlationIdOf(req) });
    res.setHeader('Location', `/v1/videos/${job.id}`);
    return toOpenAIVideo(job);
  }

  @Get(':id/content')
  async content(@CurrentUser() userId: string, @Param('id') id: string, @Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { variant } = parseQuery(OpenAIVideoContentQuery, query);
    const { state } = await this.jobs.loadOwned(id, userId);
    if (variant === 'thumbnail') return servePoster(this.posters, id, state, req, res);
    if (variant !== 'video') throw new ApiException('not_found', `There is no ${variant} for this video.`, { details: [{ path: 'variant', message: 'only "video" and "thumbnail" are available' }] });
    await serveOutput(this.deps, id, state, req, res);
  }

  private async referenceImage(userId: string, input: CreateVideoInput): Promise<ReferenceImage | undefined> {
    if (input.file) return { assetId: (await storeAsset(this.deps, userId, input.file.contentType, input.file.data)).id };
    const ref = input.body.input_reference;
    if (!ref) return undefined;
    if (ref.file_id !== undefined) return { assetId: ref.file_id };
    const url = ref.image_url ?? '';
    const data = /^data:(image\/[a-z+.-]+);base64,([A-Za-z0-9+/=\s]+)$/i.exec(url);
    if (data) {
      const image = Buffer.from(data[2], 'base64');
      assertAssetSize(image.length, this.deps.config);
      const declared = data[1].toLowerCase();
      return { assetId: (await storeAsset(this.deps, userId, declared === 'image/jpg' ? 'image/jpeg' : declared, image)).id };
    }
    if (!/^https?:\/\//i.test(url)) throw invalidParam('input_reference', 'image_url must be an http(s) URL or a base64 data: URL');
    return { url };
  }
}
