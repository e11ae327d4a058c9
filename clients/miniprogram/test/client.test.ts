// The client against a real embedded Jifen (SQLite, in-process Redis, the
// WeChat simulator): `jifen serve` on a free port with a temporary data
// directory, no metrics listener and a 2-second access token, so that
// tokens really expire.
// JIFEN_BIN names a built binary; without it the test builds one.

import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";

import {
  ApiError,
  fetchTransport,
  JifenClient,
  NetworkError,
  REPLAYED_WRITES,
  wxTransport,
  type KeyedWrites,
  type ReplayedWrite,
  type Transport,
  type TransportRequest,
  type TransportResponse,
  type WxLike,
} from "../src/index.js";

const ACCESS_TTL_SECONDS = 2;
let server: ChildProcess;
let baseUrl = "";
let dataDir = "";
let nonce = 0;

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

before(async () => {
  const root = resolve(process.cwd(), "../..");
  dataDir = mkdtempSync(join(tmpdir(), "jifen-client-"));
  let bin = process.env.JIFEN_BIN;
  if (!bin) {
    bin = join(dataDir, "jifen");
    execFileSync("go", ["build", "-o", bin, "./cmd/jifen"], { cwd: root, stdio: "inherit" });
  }
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  server = spawn(bin, ["serve"], {
    cwd: dataDir,
    env: {
      ...process.env,
      JIFEN_SERVER_ADDR: `127.0.0.1:${port}`,
      // No admin listener (/metrics, pprof): its default, 127.0.0.1:9464, is
      // taken by any other `jifen serve` on the machine, and serve stops
      // when it cannot have it. The tests do not read metrics.
      JIFEN_SERVER_METRICS_ADDR: "off",
      JIFEN_DATA_DIR: join(dataDir, "data"),
      JIFEN_AUTH_ACCESS_TTL: `${ACCESS_TTL_SECONDS}s`,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  server.stderr?.on("data", (b: Buffer) => (log = (log + b.toString()).slice(-20_000)));
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${baseUrl}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300 || server.exitCode !== null) throw new Error(`jifen serve did not become ready:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(() => {
  server?.kill("SIGTERM");
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/**
 * A transport that records every request and the answers the server gave,
 * and can lose an answer or answer one request itself (as a gateway would).
 */
function recording(inner: Transport = fetchTransport()) {
  const sent: TransportRequest[] = [];
  const answered: { req: TransportRequest; res: TransportResponse }[] = [];
  let loseNext: ((r: TransportRequest) => boolean) | null = null;
  let fakeNext: { match: (r: TransportRequest) => boolean; res: TransportResponse } | null = null;
  const transport: Transport = async (req) => {
    sent.push(req);
    if (fakeNext?.match(req)) {
      const { res } = fakeNext;
      fakeNext = null;
      return res;
    }
    const res = await inner(req);
    answered.push({ req, res });
    if (loseNext?.(req)) {
      loseNext = null;
      throw new NetworkError("answer lost on the way back");
    }
    return res;
  };
  return {
    transport,
    sent,
    answered,
    loseAnswerOf: (f: (r: TransportRequest) => boolean) => (loseNext = f),
    /** The next request f matches is answered res without reaching the server. */
    answerFirst: (f: (r: TransportRequest) => boolean, res: TransportResponse) => (fakeNext = { match: f, res }),
  };
}

/** A wx whose request goes through fetch, answering text or an ArrayBuffer as asked. */
function fetchWx() {
  const responseTypes: string[] = [];
  const wx: WxLike = {
    request(o) {
      responseTypes.push(o.responseType);
      fetch(o.url, { method: o.method, headers: o.header, body: o.data }).then(
        async (r) => {
          const header: Record<string, string> = {};
          r.headers.forEach((v, k) => (header[k] = v));
          o.success({ statusCode: r.status, header, data: o.responseType === "arraybuffer" ? await r.arrayBuffer() : await r.text() });
        },
        (e: Error) => o.fail({ errMsg: `request:fail ${e.message}` }),
      );
      return undefined;
    },
  };
  return { wx, responseTypes };
}

function client(transport: Transport, onLoggedOut?: () => void) {
  return new JifenClient({ baseUrl, transport, retryDelayMs: 10, onLoggedOut });
}

/** A call's outcome in a failure message: the error, or the answer it got instead. */
const shown = (v: unknown) => (v instanceof ApiError ? `${v.name} ${v.status} ${v.code}` : v instanceof Error ? `${v.name}: ${v.message}` : `the answer ${JSON.stringify(v)}`.slice(0, 200));

const wxCode = (user: string) => `sim:${user}:${Date.now()}-${++nonce}`;

/** The console's admin, to set up what a test needs. */
async function asAdmin() {
  const headers = { Authorization: `Bearer ${await consoleToken()}` };
  const ops = client(fetchTransport());
  return {
    headers,
    give: (memberId: number, delta: number) =>
      ops.post("/api/v1/console/members/{id}/adjustments", { auth: false, headers, params: { id: String(memberId) }, body: { delta, reason: "client test" } }),
    shareTask: async (target: number) =>
      (
        (await ops.post("/api/v1/console/tasks", {
          auth: false,
          headers,
          body: { type: "share", title: `分享 ${target} 次 ${++nonce}`, period: "daily", target, reward_points: 5, status: "active" },
        })) as { task: { id: number } }
      ).task.id,
    campaign: async (costPoints: number) =>
      (
        (await ops.post("/api/v1/console/lottery/campaigns", {
          auth: false,
          headers,
          body: {
            name: `client ${++nonce}`,
            starts_at: new Date(Date.now() - 3_600_000).toISOString(),
            ends_at: new Date(Date.now() + 86_400_000).toISOString(),
            cost_points: costPoints,
            prizes: [{ name: "谢谢参与", kind: "nothing", weight: 1 }],
          },
        })) as { campaign: { id: number } }
      ).campaign.id,
    ops,
  };
}

// The spec gives an Idempotency-Key to every write of REPLAYED_WRITES (tsc
// checks it in src/client.ts) and to no other write but the signed hooks, the
// order system's server-to-server calls: a write keyed in the spec and not
// listed fails to compile here, naming it.
type UnlistedKeyedWrites = Exclude<KeyedWrites, ReplayedWrite | `/api/v1/hooks/${string}`>;
const everyKeyedWriteIsListed: [UnlistedKeyedWrites] extends [never] ? true : UnlistedKeyedWrites = true;
void everyKeyedWriteIsListed;

async function consoleToken(): Promise<string> {
  const c = client(fetchTransport());
  const r = (await c.post("/api/v1/console/login", { body: { username: "admin", password: "admin123" }, auth: false })) as { access_token: string };
  return r.access_token;
}

describe("JifenClient on jifen serve", () => {
  test("log in, /me, sign in, list entries", async () => {
    const c = client(fetchTransport());
    const tokens = await c.login({ code: wxCode("first") });
    assert.ok(tokens.access_token && tokens.refresh_token);
    const me = await c.get("/api/v1/shopper/me");
    assert.equal(me.member.id, tokens.member?.id);
    assert.equal(me.points.available, 0);

    const signin = await c.post("/api/v1/shopper/signin");
    const earned = signin.awarded.reduce((sum, a) => sum + a.points, 0);
    assert.ok(earned > 0, "a first sign-in earns points");
    assert.equal(signin.balance, earned);
    await assert.rejects(c.post("/api/v1/shopper/signin"), (e: unknown) => e instanceof ApiError && e.status === 409 && e.code === "ALREADY_SIGNED_IN");

    const page = await c.get("/api/v1/shopper/points/entries", { query: { limit: 10 } });
    assert.equal(page.entries.length, 1);
    assert.equal(page.entries[0].kind, "earn");
    assert.equal(page.entries[0].delta, earned);

    // getPhoneNumber's code binds the phone; the answer masks it.
    const phone = await c.post("/api/v1/shopper/phone", { body: { code: "sim-phone:13800000000" } });
    assert.equal(phone.member.phone_masked, "138****0000");
  });

  test("login answers the member and is_new, both typed as present", async () => {
    const user = `shape-${Date.now()}`;
    // Under strict tsc these lines compile only if login()'s answer types
    // member and is_new as required, as the server's login answer does.
    const { member, is_new } = await client(fetchTransport()).login({ code: wxCode(user) });
    const id: number = member.id;
    const created: boolean = is_new;
    assert.ok(id > 0);
    assert.equal(created, true, "a first login creates the member");
    const again = await client(fetchTransport()).login({ code: wxCode(user) });
    assert.equal(again.member.id, id, "the same WeChat user is the same member");
    assert.equal(again.is_new, false);
  });

  test("errors are typed: code, fields and request id from the error shape", async () => {
    const c = client(fetchTransport());
    await c.login({ code: wxCode("typed") });
    const err = await c.post("/api/v1/shopper/signin/makeup", { body: { date: "not-a-date" } }).catch((e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 400);
    assert.equal(err.code, "INVALID");
    assert.ok(err.fields.date, `fields name date: ${JSON.stringify(err.fields)}`);
    assert.ok(err.requestId);
  });

  test("an expired access token is refreshed once, even for concurrent calls", async () => {
    const rec = recording();
    const c = client(rec.transport);
    const first = await c.login({ code: wxCode("expiry") });
    await new Promise((r) => setTimeout(r, (ACCESS_TTL_SECONDS + 1) * 1000));
    const [a, b, d] = await Promise.all([c.get("/api/v1/shopper/me"), c.get("/api/v1/shopper/tier"), c.get("/api/v1/shopper/me")]);
    assert.equal(a.member.id, first.member?.id);
    assert.ok(b.level && d.member);
    const refreshes = rec.sent.filter((r) => r.url.endsWith("/api/v1/shopper/token/refresh"));
    assert.equal(refreshes.length, 1, "one refresh for three calls that met 401");
    assert.notEqual(c.tokens.get()?.refresh_token, first.refresh_token, "the refresh token rotated");
    const expired = rec.sent.filter((r) => r.headers.Authorization === `Bearer ${first.access_token}` && r.url.endsWith("/me"));
    assert.ok(expired.length >= 1, "the first calls went out with the expired token");
  });

  test("a refused refresh token logs the shopper out", async () => {
    let loggedOut = 0;
    const c = client(fetchTransport(), () => loggedOut++);
    const t = await c.login({ code: wxCode("revoked") });
    // Another device spends the refresh token first: this one is now stale.
    await client(fetchTransport()).post("/api/v1/shopper/token/refresh", { body: { refresh_token: t.refresh_token }, auth: false });
    await new Promise((r) => setTimeout(r, (ACCESS_TTL_SECONDS + 1) * 1000));
    await assert.rejects(c.get("/api/v1/shopper/me"), (e: unknown) => e instanceof ApiError && e.status === 401);
    assert.equal(loggedOut, 1);
    assert.equal(c.tokens.get(), null);
  });

  test("every request names the device when deviceId is set (risk control counts per device)", async () => {
    const rec = recording();
    const c = new JifenClient({ baseUrl, transport: rec.transport, retryDelayMs: 10, deviceId: "dev-42" });
    await c.login({ code: wxCode("device") });
    await c.get("/api/v1/shopper/me");
    assert.ok(rec.sent.length >= 2, "login and /me were sent");
    for (const r of rec.sent) assert.equal(r.headers["X-Device-Id"], "dev-42", `${r.method} ${r.url}`);
    const plain = recording();
    await client(plain.transport).login({ code: wxCode("nodevice") });
    assert.equal(plain.sent[0].headers["X-Device-Id"], undefined, "no deviceId, no header");
  });

  test("a draw whose answer is lost is retried with the same Idempotency-Key and paid once", async () => {
    const admin = { Authorization: `Bearer ${await consoleToken()}` };
    const ops = client(fetchTransport());
    const now = Date.now();
    const created = (await ops.post("/api/v1/console/lottery/campaigns", {
      auth: false,
      headers: admin,
      body: {
        name: "client retry",
        starts_at: new Date(now - 3_600_000).toISOString(),
        ends_at: new Date(now + 86_400_000).toISOString(),
        cost_points: 10,
        prizes: [{ name: "谢谢参与", kind: "nothing", weight: 1 }],
      },
    })) as { campaign: { id: number } };

    const rec = recording();
    const c = client(rec.transport);
    const t = await c.login({ code: wxCode("draw") });
    await ops.post("/api/v1/console/members/{id}/adjustments", {
      auth: false,
      headers: admin,
      params: { id: String(t.member?.id) },
      body: { delta: 100, reason: "client test" },
    });

    rec.loseAnswerOf((r) => r.method === "POST" && r.url.endsWith("/draws"));
    const out = await c.post("/api/v1/shopper/lottery/campaigns/{id}/draws", { params: { id: String(created.campaign.id) } });
    assert.equal(out.draw.cost_points, 10);

    const draws = rec.sent.filter((r) => r.url.endsWith("/draws"));
    assert.equal(draws.length, 2, "the lost answer was retried once");
    assert.ok(draws[0].headers["Idempotency-Key"], "a write carries an Idempotency-Key");
    assert.equal(draws[1].headers["Idempotency-Key"], draws[0].headers["Idempotency-Key"], "the retry reuses the key");

    const me = await c.get("/api/v1/shopper/me");
    assert.equal(me.points.available, 90, "paid once, not twice");
    const mine = await c.get("/api/v1/shopper/lottery/campaigns/{id}/draws/mine", { params: { id: String(created.campaign.id) } });
    assert.equal((mine as { draws: unknown[] }).draws.length, 1);

    // A second draw is a new call: a new key, and it is paid.
    await c.post("/api/v1/shopper/lottery/campaigns/{id}/draws", { params: { id: String(created.campaign.id) } });
    const keys = new Set(rec.sent.filter((r) => r.url.endsWith("/draws")).map((r) => r.headers["Idempotency-Key"]));
    assert.equal(keys.size, 2);
    assert.equal((await c.get("/api/v1/shopper/me")).points.available, 80);
  });

  test("the referral QR code comes as bytes (a JPEG), over fetch and over wx.request", async () => {
    const c = client(fetchTransport());
    await c.login({ code: wxCode("qrcode") });
    const img = await c.referralQRCode();
    assert.ok(img instanceof ArrayBuffer);
    const b = new Uint8Array(img);
    assert.deepEqual([...b.subarray(0, 2)], [0xff, 0xd8], "a JPEG starts with SOI");
    assert.deepEqual([...b.subarray(-2)], [0xff, 0xd9], "and ends with EOI");
    const raw = await fetch(`${baseUrl}/api/v1/shopper/referral/qrcode`, { headers: { Authorization: `Bearer ${c.tokens.get()?.access_token}` } });
    assert.equal(raw.headers.get("content-type"), "image/jpeg");
    assert.ok(Buffer.from(await raw.arrayBuffer()).equals(Buffer.from(img)), "the bytes the server sent, none lost to a text decoding");

    // wx.request is asked for an arraybuffer for it, and for text otherwise.
    const wx = fetchWx();
    const w = new JifenClient({ baseUrl, transport: wxTransport(wx.wx), tokens: c.tokens, retryDelayMs: 10 });
    assert.ok(Buffer.from(await w.referralQRCode()).equals(Buffer.from(img)), "wx.request's bytes are the server's");
    await w.get("/api/v1/shopper/me");
    assert.deepEqual(wx.responseTypes, ["arraybuffer", "text"]);

    // Errors stay typed: a refusal is an ApiError read from the bytes, no answer a NetworkError.
    for (const t of [fetchTransport(), wxTransport(fetchWx().wx)]) {
      const err = await new JifenClient({ baseUrl, transport: t }).referralQRCode().catch((e: unknown) => e);
      assert.ok(err instanceof ApiError, String(err));
      assert.equal(err.status, 401);
      assert.equal(err.code, "UNAUTHORIZED");
      assert.ok(err.requestId);
    }
    const lost = await client(wxTransport({ request: (o) => o.fail({ errMsg: "request:fail timeout" }) }))
      .getBinary("/api/v1/shopper/referral/qrcode", { retries: 0 })
      .catch((e: unknown) => e);
    assert.ok(lost instanceof NetworkError, String(lost));
  });

  test("an error answered as bytes is read as UTF-8 even where TextDecoder is missing (some mini-program runtimes)", async () => {
    const body = JSON.stringify({ error: { code: "RATE_LIMITED", message: "微信限流，请稍后再试 🙏" }, request_id: "req-1" });
    const bytes = new TextEncoder().encode(body);
    const transport: Transport = async () => ({ status: 429, headers: { "retry-after": "7" }, body: "", bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
    const saved = globalThis.TextDecoder;
    Reflect.deleteProperty(globalThis, "TextDecoder");
    try {
      assert.equal(typeof globalThis.TextDecoder, "undefined");
      const err = await client(transport).getBinary("/api/v1/shopper/referral/qrcode", { retries: 0 }).catch((e: unknown) => e);
      assert.ok(err instanceof ApiError, String(err));
      assert.equal(err.code, "RATE_LIMITED");
      assert.equal(err.message, "微信限流，请稍后再试 🙏");
      assert.equal(err.requestId, "req-1");
      assert.equal(err.retryAfter, 7);
    } finally {
      globalThis.TextDecoder = saved;
    }
  });

  test("every write the client resends after a lost answer is one the server replays by its Idempotency-Key", async () => {
    const admin = await asAdmin();
    const rec = recording();
    const shopper = client(rec.transport);
    const { member } = await shopper.login({ code: wxCode("replays") });
    await admin.give(member.id, 1_000);
    const campaign = await admin.campaign(10);
    const item = (
      (await admin.ops.post("/api/v1/console/mall/items", {
        auth: false,
        headers: admin.headers,
        body: { kind: "virtual", name: `会员日礼 ${++nonce}`, category: "gift", points: 10, stock: 5, enabled: true },
      })) as { item: { id: number } }
    ).item.id;
    const task = await admin.shareTask(1);
    await shopper.post("/api/v1/shopper/events/share", { body: {} });
    // A guide of a store, and a shopper who joined through the guide's code.
    const store = (
      (await admin.ops.post("/api/v1/console/stores", { auth: false, headers: admin.headers, body: { name: `静安店 ${++nonce}`, robot_key: `robot-${nonce}` } })) as {
        store: { id: number };
      }
    ).store.id;
    const guideUser = `guide${Date.now()}${++nonce}`;
    const guide = (
      (await admin.ops.post("/api/v1/console/guides", {
        auth: false,
        headers: admin.headers,
        body: { userid: guideUser, name: "导购", store_id: store, monthly_budget: 1_000 },
      })) as { guide: { scene: string } }
    ).guide;
    const guideLogin = (await admin.ops.post("/api/v1/guide/login", { auth: false, body: { code: `sim-wecom:${guideUser}:${Date.now()}-${++nonce}` } })) as {
      access_token: string;
    };
    const customer = await client(fetchTransport()).login({ code: wxCode("guided"), scene: guide.scene });
    const guideHeaders = { Authorization: `Bearer ${guideLogin.access_token}` };
    const other = client(rec.transport);

    // A copy is the same request: its times are not taken again.
    const lotteryStarts = new Date(Date.now() - 3_600_000).toISOString();
    const lotteryEnds = new Date(Date.now() + 86_400_000).toISOString();
    // How each listed write is made; a route listed without one fails to
    // compile here.
    const sendOnce: { [R in ReplayedWrite]: (key: string) => Promise<unknown> } = {
      "/api/v1/shopper/lottery/campaigns/{id}/draws": (key) =>
        shopper.post("/api/v1/shopper/lottery/campaigns/{id}/draws", { params: { id: String(campaign) }, idempotencyKey: key }),
      "/api/v1/shopper/mall/items/{id}/redemptions": (key) =>
        shopper.post("/api/v1/shopper/mall/items/{id}/redemptions", { params: { id: String(item) }, idempotencyKey: key }),
      "/api/v1/shopper/tier/upgrade": (key) => shopper.post("/api/v1/shopper/tier/upgrade", { idempotencyKey: key }),
      "/api/v1/shopper/tasks/{id}/claim": (key) => shopper.post("/api/v1/shopper/tasks/{id}/claim", { params: { id: String(task) }, idempotencyKey: key }),
      "/api/v1/console/members/{id}/adjustments": (key) =>
        other.post("/api/v1/console/members/{id}/adjustments", {
          auth: false,
          headers: admin.headers,
          params: { id: String(member.id) },
          body: { delta: 5, reason: "replay" },
          idempotencyKey: key,
        }),
      "/api/v1/guide/grants": (key) =>
        other.post("/api/v1/guide/grants", { auth: false, headers: guideHeaders, body: { member_id: customer.member.id, points: 5, reason: "到店体验" }, idempotencyKey: key }),
      // The console's creates: sent again under their key, one record.
      "/api/v1/console/rules": (key) =>
        other.post("/api/v1/console/rules", {
          auth: false,
          headers: admin.headers,
          body: { name: `重试 ${key}`, trigger: "order_paid", status: "inactive", stacking: "stackable", effect: { kind: "fixed", points: 5 } },
          idempotencyKey: key,
        }),
      "/api/v1/console/campaigns": (key) =>
        other.post("/api/v1/console/campaigns", {
          auth: false,
          headers: admin.headers,
          body: { name: `重试 ${key}`, audience: { expiring_within_days: 7 }, channels: ["subscribe"], schedule: { cron: "0 10 * * *" } },
          idempotencyKey: key,
        }),
      "/api/v1/console/stores": (key) =>
        other.post("/api/v1/console/stores", { auth: false, headers: admin.headers, body: { name: `重试店 ${key}`, robot_key: `robot-${key}` }, idempotencyKey: key }),
      "/api/v1/console/guides": (key) =>
        other.post("/api/v1/console/guides", {
          auth: false,
          headers: admin.headers,
          body: { userid: `guide-${key}`, name: "导购", store_id: store, monthly_budget: 100 },
          idempotencyKey: key,
        }),
      "/api/v1/console/tasks": (key) =>
        other.post("/api/v1/console/tasks", {
          auth: false,
          headers: admin.headers,
          body: { type: "share", title: `重试 ${key}`, period: "daily", target: 1, reward_points: 5, status: "active" },
          idempotencyKey: key,
        }),
      "/api/v1/console/lottery/campaigns": (key) =>
        other.post("/api/v1/console/lottery/campaigns", {
          auth: false,
          headers: admin.headers,
          body: {
            name: `重试 ${key}`,
            starts_at: lotteryStarts,
            ends_at: lotteryEnds,
            cost_points: 1,
            prizes: [{ name: "谢谢参与", kind: "nothing", weight: 1 }],
          },
          idempotencyKey: key,
        }),
      "/api/v1/console/lottery/campaigns/{id}/prizes": (key) =>
        other.post("/api/v1/console/lottery/campaigns/{id}/prizes", {
          auth: false,
          headers: admin.headers,
          params: { id: String(campaign) },
          body: { name: `重试 ${key}`, kind: "nothing", weight: 1 },
          idempotencyKey: key,
        }),
      "/api/v1/console/mall/items": (key) =>
        other.post("/api/v1/console/mall/items", {
          auth: false,
          headers: admin.headers,
          body: { kind: "virtual", name: `重试 ${key}`, category: "gift", points: 10, stock: 5, enabled: true },
          idempotencyKey: key,
        }),
    };
    assert.deepEqual(Object.keys(sendOnce).sort(), [...REPLAYED_WRITES].sort(), "one way to send each listed write, and no other");

    for (const route of REPLAYED_WRITES) {
      const key = `replay-${++nonce}`;
      rec.answered.length = 0;
      await sendOnce[route](key).catch((e: unknown) => assert.fail(`${route}: the first write failed: ${shown(e)}`));
      await sendOnce[route](key).catch((e: unknown) => assert.fail(`${route}: the same Idempotency-Key again was refused, not replayed: ${shown(e)}`));
      assert.equal(rec.answered.length, 2, `${route}: two answers`);
      const [first, again] = rec.answered;
      assert.equal(again.req.headers["Idempotency-Key"], key);
      assert.equal(first.res.headers["idempotent-replayed"], undefined, `${route}: the first is worked`);
      assert.equal(again.res.headers["idempotent-replayed"], "true", `${route}: the same key again is answered as a replay (status ${again.res.status})`);
    }
  });

  test("a write the server does not replay by key is not sent again after a lost answer", async () => {
    const admin = await asAdmin();
    const task = await admin.shareTask(2);
    const rec = recording();
    const c = client(rec.transport);
    await c.login({ code: wxCode("notreplayed") });
    const phone = `139${String(Date.now()).slice(-8)}`;
    const writes: [string, () => Promise<unknown>][] = [
      ["/api/v1/shopper/events/share", () => c.post("/api/v1/shopper/events/share", { body: {} })],
      ["/api/v1/shopper/signin", () => c.post("/api/v1/shopper/signin")],
      ["/api/v1/shopper/phone", () => c.post("/api/v1/shopper/phone", { body: { code: `sim-phone:${phone}` } })],
    ];
    for (const [path, send] of writes) {
      rec.loseAnswerOf((r) => r.url.endsWith(path));
      const before = rec.sent.length;
      const err = await send().catch((e: unknown) => e);
      assert.ok(err instanceof NetworkError, `${path}: the caller hears the answer was lost, not ${shown(err)}`);
      assert.equal(rec.sent.length - before, 1, `${path} was sent once`);
    }
    // Each landed once: the share counted one step of two (sent twice it
    // made the task claimable), the day is signed, the phone bound.
    const { tasks } = await c.get("/api/v1/shopper/tasks");
    const share = tasks.find((t) => t.id === task);
    assert.equal(share?.progress, 1, "the share was counted once");
    assert.equal(share?.state, "in_progress");
    await assert.rejects(c.post("/api/v1/shopper/signin"), (e: unknown) => e instanceof ApiError && e.code === "ALREADY_SIGNED_IN");
    assert.equal((await c.get("/api/v1/shopper/me")).member.phone_masked, `${phone.slice(0, 3)}****${phone.slice(-4)}`);
  });

  test("after 502, 503 or 504 only reads and replayed writes are retried; after 429 (refused before any work) every call is", async () => {
    const admin = await asAdmin();
    const rec = recording();
    const slept: number[] = [];
    const c = new JifenClient({ baseUrl, transport: rec.transport, retryDelayMs: 10, sleep: async (ms) => void slept.push(ms) });
    const { member } = await c.login({ code: wxCode("statuses") });
    const share = (r: TransportRequest) => r.url.endsWith("/api/v1/shopper/events/share");
    const gateway = (status: number): TransportResponse => ({ status, headers: { "content-type": "text/html" }, body: `<html>${status}</html>` });
    const unavailable: TransportResponse = {
      status: 503,
      headers: { "retry-after": "2", "content-type": "application/json" },
      body: JSON.stringify({ error: { code: "UNAVAILABLE", message: "the database is unavailable; retry shortly" }, request_id: "fake" }),
    };
    for (const res of [gateway(502), unavailable, gateway(504)]) {
      rec.answerFirst(share, res);
      const before = rec.sent.length;
      const err = await c.post("/api/v1/shopper/events/share", { body: {} }).catch((e: unknown) => e);
      assert.ok(err instanceof ApiError && err.status === res.status, `a share answered ${res.status} reaches the caller, not ${shown(err)}`);
      assert.equal(rec.sent.length - before, 1, `a share answered ${res.status} is not sent again`);
    }

    rec.answerFirst(share, { status: 429, headers: { "retry-after": "1" }, body: JSON.stringify({ error: { code: "RATE_LIMITED", message: "too many requests" }, request_id: "fake" }) });
    let before = rec.sent.length;
    slept.length = 0;
    await c.post("/api/v1/shopper/events/share", { body: {} });
    assert.equal(rec.sent.length - before, 2, "a share refused with 429 is sent again");
    assert.ok(slept[0] >= 1000, `after Retry-After: ${slept}`);

    // A replayed write (the console's adjustment) and a read are retried, the write with its key.
    const ops = new JifenClient({ baseUrl, transport: rec.transport, retryDelayMs: 10, sleep: async () => {} });
    const balance = async () => (await c.get("/api/v1/shopper/me")).points.available;
    const was = await balance();
    rec.answerFirst((r) => r.url.endsWith("/adjustments"), unavailable);
    before = rec.sent.length;
    await ops.post("/api/v1/console/members/{id}/adjustments", { auth: false, headers: admin.headers, params: { id: String(member.id) }, body: { delta: 7, reason: "retry" } });
    const adjustments = rec.sent.slice(before);
    assert.equal(adjustments.length, 2, "an adjustment answered 503 is sent again");
    assert.equal(adjustments[1].headers["Idempotency-Key"], adjustments[0].headers["Idempotency-Key"]);
    assert.equal(await balance(), was + 7);
    rec.answerFirst((r) => r.url.endsWith("/api/v1/shopper/me"), gateway(502));
    before = rec.sent.length;
    await c.get("/api/v1/shopper/me");
    assert.equal(rec.sent.length - before, 2, "a read answered 502 is sent again");
  });

  test("wxTransport drives wx.request (as in the mini-program)", async () => {
    const calls: string[] = [];
    const wx: WxLike = {
      request(o) {
        calls.push(`${o.method} ${o.url}`);
        fetchTransport()({ url: o.url, method: o.method, headers: o.header, body: o.data }).then(
          (r) => o.success({ statusCode: r.status, header: r.headers, data: r.body }),
          (e: Error) => o.fail({ errMsg: `request:fail ${e.message}` }),
        );
        return undefined;
      },
    };
    const c = client(wxTransport(wx));
    await c.login({ code: wxCode("wx") });
    const me = await c.get("/api/v1/shopper/me");
    assert.ok(me.member.id > 0);
    assert.deepEqual(calls.map((s) => s.split(" ")[0]), ["POST", "GET"]);
    const err = await client(wxTransport({ request: (o) => o.fail({ errMsg: "request:fail timeout" }) })).get("/api/v1/shopper/me", { retries: 0 }).catch((e: unknown) => e);
    assert.ok(err instanceof NetworkError);
  });
});
