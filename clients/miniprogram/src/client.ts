// The hand-written runtime of the Jifen mini-program client. Types come from
// schema.ts (generated from docs/openapi.yaml by `npm run generate`); this
// file only moves requests: over wx.request in a mini-program, over fetch in
// Node (tests), through the Transport interface either way.

import type { components, paths } from "./schema.js";

export type Method = "get" | "post" | "put" | "patch" | "delete";

/** One HTTP exchange, as plain as wx.request and fetch can both do it. */
export interface TransportRequest {
  url: string;
  method: Uppercase<Method>;
  headers: Record<string, string>;
  body?: string;
  /**
   * How the answer's body comes back: "text" (the default: every JSON
   * route) or "arraybuffer" (the raw bytes, in TransportResponse.bytes: an
   * image such as the referral QR code).
   */
  responseType?: "text" | "arraybuffer";
}

export interface TransportResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The body as text ("" when the request asked for an arraybuffer). */
  body: string;
  /** The body's bytes, when the request asked for an arraybuffer. */
  bytes?: ArrayBuffer;
}

/** Sends one request; rejects only when no answer came (network, timeout). */
export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

/** The part of the mini-program's `wx` this client uses. */
export interface WxLike {
  request(options: {
    url: string;
    method: Uppercase<Method>;
    header: Record<string, string>;
    data?: string;
    dataType: string;
    responseType: "text" | "arraybuffer";
    timeout?: number;
    success(res: { statusCode: number; header: Record<string, string>; data: unknown }): void;
    fail(err: { errMsg: string }): void;
  }): unknown;
}

/**
 * wxTransport sends through wx.request. dataType "text" keeps the body as
 * text, so the client parses JSON itself the same way on every platform; a
 * request for an arraybuffer (an image) asks wx.request for one.
 */
export function wxTransport(wx: WxLike, timeoutMs = 10_000): Transport {
  return (req) =>
    new Promise((resolve, reject) => {
      const binary = req.responseType === "arraybuffer";
      wx.request({
        url: req.url,
        method: req.method,
        header: req.headers,
        data: req.body,
        dataType: "text",
        responseType: binary ? "arraybuffer" : "text",
        timeout: timeoutMs,
        success: (res) =>
          resolve(
            binary
              ? { status: res.statusCode, headers: lowerKeys(res.header ?? {}), body: "", bytes: res.data as ArrayBuffer }
              : {
                  status: res.statusCode,
                  headers: lowerKeys(res.header ?? {}),
                  body: typeof res.data === "string" ? res.data : JSON.stringify(res.data ?? ""),
                },
          ),
        fail: (err) => reject(new NetworkError(err.errMsg)),
      });
    });
}

/** fetchTransport sends through fetch (Node 18+, browsers): tests and tools. */
export function fetchTransport(fetchImpl: typeof fetch = fetch): Transport {
  return async (req) => {
    let res: Response;
    try {
      res = await fetchImpl(req.url, { method: req.method, headers: req.headers, body: req.body });
    } catch (e) {
      throw new NetworkError(e instanceof Error ? e.message : String(e));
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k.toLowerCase()] = v));
    if (req.responseType === "arraybuffer") return { status: res.status, headers, body: "", bytes: await res.arrayBuffer() };
    return { status: res.status, headers, body: await res.text() };
  };
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

export type ErrorBody = components["schemas"]["Error"];

/** Any non-2xx answer, in the API's error shape. */
export class ApiError extends Error {
  readonly status: number;
  /** error.code, e.g. POINTS_INSUFFICIENT, ALREADY_SIGNED_IN, INVALID. */
  readonly code: string;
  /** For 400 INVALID: field → problem. */
  readonly fields: Record<string, string>;
  readonly requestId: string;
  /** Seconds, from Retry-After on 429 and 503. */
  readonly retryAfter?: number;

  constructor(status: number, body: ErrorBody | undefined, headers: Record<string, string>) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = body?.error?.code ?? `HTTP_${status}`;
    this.fields = body?.error?.fields ?? {};
    this.requestId = body?.request_id ?? headers["x-request-id"] ?? "";
    const ra = Number(headers["retry-after"]);
    if (Number.isFinite(ra) && headers["retry-after"] !== undefined) this.retryAfter = ra;
  }
}

/** No answer came: the request may or may not have been applied. */
export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NetworkError";
  }
}

export type Tokens = components["schemas"]["Tokens"];

/** Where the shopper's tokens live between calls (and app restarts). */
export interface TokenStore {
  get(): Tokens | null;
  set(tokens: Tokens | null): void;
}

export function memoryTokenStore(): TokenStore {
  let t: Tokens | null = null;
  return { get: () => t, set: (v) => void (t = v) };
}

/** wxTokenStore keeps the tokens in the mini-program's storage. */
export function wxTokenStore(
  wx: { getStorageSync(key: string): unknown; setStorageSync(key: string, v: unknown): void; removeStorageSync(key: string): void },
  key = "jifen.tokens",
): TokenStore {
  return {
    get: () => (wx.getStorageSync(key) as Tokens | "") || null,
    set: (v) => (v ? wx.setStorageSync(key, v) : wx.removeStorageSync(key)),
  };
}

/**
 * The answer of POST /api/v1/shopper/login: the tokens, the member and
 * whether this login created it. The spec requires both (allOf Tokens and
 * `required: [member, is_new]`), but openapi-typescript drops a `required`
 * that lists no properties beside it, and schema.ts types the answer as bare
 * Tokens, where both are optional.
 */
export type LoginResponse = Success<"/api/v1/shopper/login", "post"> & Required<Pick<Tokens, "member" | "is_new">>;

// ---- types of a call, derived from the generated paths ----

type Defined<T> = [T] extends [never] ? false : [T] extends [undefined] ? false : true;

/** The paths that have method M. */
export type PathsWith<M extends Method> = {
  [P in keyof paths]: Defined<paths[P][M]> extends true ? P : never;
}[keyof paths];

type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

/** The media types of the 200 answer of an operation (never when it has none). */
type OkMediaOf<O> = O extends { responses: { 200: { content: infer C } } } ? keyof C : never;

/**
 * The GET routes whose answer is not JSON but bytes (the referral QR code's
 * JPEG): getBinary's, not get's, which parses JSON.
 */
export type BinaryPaths = {
  [P in PathsWith<"get">]: [OkMediaOf<Op<P, "get">>] extends [never] ? never : "application/json" extends OkMediaOf<Op<P, "get">> ? never : P;
}[PathsWith<"get">];

type JsonOf<C> = C extends { content: { "application/json": infer B } } ? B : C extends { content?: never } ? undefined : unknown;

/** The JSON body of the 2xx answer of an operation (undefined for 204). */
export type Success<P extends keyof paths, M extends Method> =
  Op<P, M> extends { responses: infer R }
    ? R extends { 200: infer A } ? JsonOf<A>
      : R extends { 201: infer A } ? JsonOf<A>
      : R extends { 202: infer A } ? JsonOf<A>
      : undefined
    : never;

type BodyOf<O> = O extends { requestBody: { content: { "application/json": infer B } } }
  ? { body: B }
  : O extends { requestBody?: { content: { "application/json": infer B } } }
    ? { body?: B }
    : { body?: never };

type PathParamsOf<O> = O extends { parameters: { path: infer PP } } ? (PP extends Record<string, unknown> ? { params: PP } : { params?: never }) : { params?: never };

type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? (Defined<Q> extends true ? { query?: Q } : { query?: never }) : { query?: never };

export interface CallOptions {
  /** Extra headers (e.g. a console token for tools; the client sets the shopper's). */
  headers?: Record<string, string>;
  /** Send the shopper's access token (default true). */
  auth?: boolean;
  /** The Idempotency-Key of this write; by default a new one per call, reused on its retries. */
  idempotencyKey?: string;
  /**
   * How many times to retry (default: the client's retries): a read or a
   * write of REPLAYED_WRITES after no answer, 429, 502, 503 or 504; any other
   * write only after 429.
   */
  retries?: number;
}

export type Request<P extends keyof paths, M extends Method> = BodyOf<Op<P, M>> & PathParamsOf<Op<P, M>> & QueryOf<Op<P, M>> & CallOptions;

export interface ClientOptions {
  /** e.g. https://api.example.com (no trailing /api/v1: paths carry it). */
  baseUrl: string;
  transport: Transport;
  tokens?: TokenStore;
  /**
   * Retries of one call (default 2): of a read or a write of REPLAYED_WRITES
   * after no answer or 429/502/503/504, of any other write after 429 only.
   */
  retries?: number;
  /** First backoff; doubles each retry; Retry-After wins when longer (default 300 ms). */
  retryDelayMs?: number;
  /** Makes Idempotency-Keys (default: random, 32 hex digits). */
  newKey?: () => string;
  /** Called when the refresh token is refused: the shopper must log in again. */
  onLoggedOut?: () => void;
  /**
   * An id of this device, made once and kept (e.g. in wx.setStorageSync), sent
   * as X-Device-Id on every request: risk control counts sign-ins, draws, task
   * claims and referral binds per device. Without it they count by IP and phone.
   */
  deviceId?: string;
  sleep?: (ms: number) => Promise<void>;
}

type HeadersOf<O> = O extends { parameters: { header?: infer H } } ? NonNullable<H> : never;

/** The POST routes whose operation takes an Idempotency-Key header in the spec. */
export type KeyedWrites = {
  [P in PathsWith<"post">]: [HeadersOf<Op<P, "post">>] extends [never] ? never : "Idempotency-Key" extends keyof HeadersOf<Op<P, "post">> ? P : never;
}[PathsWith<"post">];

/**
 * REPLAYED_WRITES are the writes (all POST) the server replays by their
 * Idempotency-Key: the same key again does nothing again and answers what
 * the first did (header Idempotent-Replayed: true). Only these are retried
 * after an answer that leaves unknown whether the write landed — none came
 * (NetworkError), or 502, 503 or 504 — with the same key, so a draw whose
 * answer was lost is replayed, not paid twice. The server ignores the key on
 * every other write (a share, a sign-in, a phone binding, a subscription, …):
 * sent again, it would be done again (a share counted twice) or refused as
 * done (409 ALREADY_SIGNED_IN, 400 INVALID_CODE), so those are retried only
 * after 429, which the rate limit answers before any work (bff/gate.go), and
 * otherwise the failure goes to the caller.
 *
 * The one list of them in the client. tsc checks that the spec gives each an
 * Idempotency-Key; test/client.test.ts that a running server replays each,
 * and that every other write the spec keys is one of the signed
 * server-to-server hooks (/api/v1/hooks/checkout/holds…), which are not
 * this client's to call.
 */
export const REPLAYED_WRITES = [
  "/api/v1/shopper/lottery/campaigns/{id}/draws",
  "/api/v1/shopper/mall/items/{id}/redemptions",
  "/api/v1/shopper/tier/upgrade",
  "/api/v1/shopper/tasks/{id}/claim",
  "/api/v1/console/members/{id}/adjustments",
  "/api/v1/console/rules",
  "/api/v1/console/campaigns",
  "/api/v1/console/stores",
  "/api/v1/console/guides",
  "/api/v1/console/tasks",
  "/api/v1/console/lottery/campaigns",
  "/api/v1/console/lottery/campaigns/{id}/prizes",
  "/api/v1/console/mall/items",
  "/api/v1/guide/grants",
] as const satisfies readonly KeyedWrites[];

export type ReplayedWrite = (typeof REPLAYED_WRITES)[number];

const replayed: ReadonlySet<string> = new Set(REPLAYED_WRITES);

/** Answers after which the request may not have been worked, or was refused for now: retried for reads and REPLAYED_WRITES. */
const RETRYABLE = new Set([429, 502, 503, 504]);

/** Answers given before any work (the rate limit): retried for every call. */
const REFUSED_BEFORE_WORK = new Set([429]);

function randomKey(): string {
  let s = "";
  for (let i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

/**
 * JifenClient calls the Jifen API with the shopper's tokens:
 *  - a 401 on a call made with an access token refreshes the pair once
 *    (concurrent 401s share one refresh) and repeats the call;
 *  - every write carries an Idempotency-Key, the same on each of its retries;
 *    a read or one of REPLAYED_WRITES, which the server replays by that key,
 *    is retried after no answer, 429, 502, 503 or 504 (a lost answer replays
 *    instead of paying twice); any other write only after 429;
 *  - every non-2xx answer throws an ApiError with the API's code and fields.
 */
export class JifenClient {
  private readonly o: Required<Omit<ClientOptions, "onLoggedOut" | "deviceId">> & Pick<ClientOptions, "onLoggedOut" | "deviceId">;
  private refreshing: Promise<boolean> | null = null;

  constructor(options: ClientOptions) {
    this.o = {
      tokens: memoryTokenStore(),
      retries: 2,
      retryDelayMs: 300,
      newKey: randomKey,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
    };
  }

  get tokens(): TokenStore {
    return this.o.tokens;
  }

  /** GETs a JSON route; a route that answers bytes is getBinary's. */
  get<P extends Exclude<PathsWith<"get">, BinaryPaths>>(path: P, req?: Request<P, "get">): Promise<Success<P, "get">> {
    return this.call("get", path, (req ?? {}) as CallRequest);
  }
  /**
   * getBinary GETs a route that answers bytes, not JSON (the transport is
   * asked for an arraybuffer); a refusal is an ApiError and no answer a
   * NetworkError, as for every call.
   */
  getBinary<P extends BinaryPaths>(path: P, req?: Request<P, "get">): Promise<ArrayBuffer> {
    return this.call("get", path, { ...(req ?? {}), binary: true } as CallRequest);
  }
  post<P extends PathsWith<"post">>(path: P, req?: Request<P, "post">): Promise<Success<P, "post">> {
    return this.call("post", path, (req ?? {}) as CallRequest);
  }
  put<P extends PathsWith<"put">>(path: P, req: Request<P, "put">): Promise<Success<P, "put">> {
    return this.call("put", path, req as CallRequest);
  }
  patch<P extends PathsWith<"patch">>(path: P, req: Request<P, "patch">): Promise<Success<P, "patch">> {
    return this.call("patch", path, req as CallRequest);
  }
  delete<P extends PathsWith<"delete">>(path: P, req?: Request<P, "delete">): Promise<Success<P, "delete">> {
    return this.call("delete", path, (req ?? {}) as CallRequest);
  }

  /**
   * login exchanges a wx.login code (and, for a new member, the inviter's
   * code or the mini-program code's scene) for tokens, and keeps them.
   */
  async login(body: Request<"/api/v1/shopper/login", "post">["body"]): Promise<LoginResponse> {
    const t = (await this.post("/api/v1/shopper/login", { body, auth: false })) as LoginResponse;
    this.o.tokens.set(t);
    return t;
  }

  /**
   * referralQRCode is the shopper's mini-program code, a JPEG whose scene is
   * their invite code: write it to a file (wx.getFileSystemManager) to show
   * it in an <image> or save it to the album.
   */
  referralQRCode(): Promise<ArrayBuffer> {
    return this.getBinary("/api/v1/shopper/referral/qrcode");
  }

  /** logout revokes the refresh token's login and forgets the tokens. */
  async logout(): Promise<void> {
    const t = this.o.tokens.get();
    this.o.tokens.set(null);
    if (t) await this.post("/api/v1/shopper/logout", { body: { refresh_token: t.refresh_token }, auth: false });
  }

  /** refresh spends the refresh token for a new pair; one at a time. */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    const t = this.o.tokens.get();
    if (!t) return false;
    try {
      // Never retried: the server rotates the token on use, and sending the
      // spent one again (after a lost answer) revokes the whole login.
      const next = await this.post("/api/v1/shopper/token/refresh", { body: { refresh_token: t.refresh_token }, auth: false, retries: 0 });
      this.o.tokens.set(next);
      return true;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 400)) {
        this.o.tokens.set(null);
        this.o.onLoggedOut?.();
        return false;
      }
      throw e;
    }
  }

  private async call<T>(method: Method, path: string, req: CallRequest): Promise<T> {
    const url = this.o.baseUrl + fillPath(path, req.params) + queryString(req.query);
    const write = method !== "get";
    const key = write ? (req.idempotencyKey ?? this.o.newKey()) : undefined;
    // Whether sending it again after an ambiguous failure is safe: a read, or
    // a write the server replays by its key (path is the template).
    const resendable = !write || (method === "post" && replayed.has(path));
    const auth = req.auth ?? true;
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { Accept: req.binary ? "*/*" : "application/json", ...req.headers };
      if (req.body !== undefined) headers["Content-Type"] = "application/json";
      if (key) headers["Idempotency-Key"] = key;
      if (this.o.deviceId) headers["X-Device-Id"] = this.o.deviceId;
      const token = auth ? this.o.tokens.get()?.access_token : undefined;
      if (token) headers.Authorization = `Bearer ${token}`;
      let res: TransportResponse;
      try {
        res = await this.o.transport({
          url,
          method: method.toUpperCase() as Uppercase<Method>,
          headers,
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          ...(req.binary ? { responseType: "arraybuffer" as const } : {}),
        });
      } catch (e) {
        if (resendable && attempt < (req.retries ?? this.o.retries)) {
          await this.o.sleep(this.backoff(attempt));
          continue; // the same Idempotency-Key: a write that did land replays
        }
        throw e instanceof NetworkError ? e : new NetworkError(String(e));
      }
      if (res.status >= 200 && res.status < 300) {
        if (req.binary) {
          if (!res.bytes) throw new Error(`the transport answered ${path} without bytes: it ignores responseType "arraybuffer"`);
          return res.bytes as T;
        }
        return (res.body === "" ? undefined : JSON.parse(res.body)) as T;
      }
      const err = new ApiError(res.status, parseError(res.body !== "" || !res.bytes ? res.body : utf8(res.bytes)), res.headers);
      if (res.status === 401 && token && !refreshed) {
        refreshed = true;
        // Another call may have refreshed already: then just use its token.
        if (this.o.tokens.get()?.access_token !== token || (await this.refresh())) {
          attempt--;
          continue;
        }
      }
      if ((resendable ? RETRYABLE : REFUSED_BEFORE_WORK).has(res.status) && attempt < (req.retries ?? this.o.retries)) {
        await this.o.sleep(Math.max(this.backoff(attempt), (err.retryAfter ?? 0) * 1000));
        continue;
      }
      throw err;
    }
  }

  private backoff(attempt: number): number {
    return this.o.retryDelayMs * 2 ** attempt;
  }
}

type CallRequest = CallOptions & { body?: unknown; params?: Record<string, unknown>; query?: Record<string, unknown>; binary?: boolean };

function fillPath(path: string, params?: Record<string, unknown>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params?.[name];
    if (v === undefined) throw new Error(`path parameter ${name} missing for ${path}`);
    return encodeURIComponent(String(v));
  });
}

function queryString(q?: Record<string, unknown>): string {
  if (!q) return "";
  const parts = Object.entries(q)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

/**
 * utf8 decodes bytes (an error answered to a request for an arraybuffer).
 * Some mini-program runtimes have no TextDecoder: then by hand (malformed
 * sequences as U+FFFD).
 */
function utf8(bytes: ArrayBuffer): string {
  if (typeof TextDecoder !== "undefined") return new TextDecoder().decode(bytes);
  const b = new Uint8Array(bytes);
  let out = "";
  for (let i = 0; i < b.length; ) {
    const c = b[i++];
    const n = c >= 0xf0 && c < 0xf8 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    let cp = n === 3 ? c & 0x07 : n === 2 ? c & 0x0f : n === 1 ? c & 0x1f : c;
    if (c >= 0x80 && (n === 0 || c >= 0xf8)) {
      out += "\ufffd"; // a continuation byte without a lead, or no lead byte at all
      continue;
    }
    let ok = true;
    for (let k = 0; k < n; k++) {
      const cc = b[i];
      if (cc === undefined || (cc & 0xc0) !== 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3f);
      i++;
    }
    out += ok && cp <= 0x10ffff ? String.fromCodePoint(cp) : "\ufffd";
  }
  return out;
}

function parseError(body: string): ErrorBody | undefined {
  try {
    const v = JSON.parse(body) as ErrorBody;
    return typeof v?.error?.code === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}
