// Package wechat wraps github.com/silenceper/wechat/v2 (v2.1.14) behind the
// small interfaces the domain declares (member.MiniProgram, …), and turns
// WeChat's answers into *domain.Error values with one policy for every API:
//
//   - 40029 → domain.InvalidCode, 40163 → domain.CodeUsed, 45011 →
//     domain.RateLimited;
//   - −1 (system busy) is retried once after a short pause, then
//     domain.Unavailable;
//   - on an API that takes an access token, a stale token (WeChat 40001,
//     40014, 42001; WeCom 40014, 42001) is dropped from the cache and the
//     call retried once, because the SDK caches tokens but never refreshes
//     them on these codes;
//   - HTTP errors, timeouts and any other errcode → domain.Unavailable,
//     wrapping the cause (with app secrets and tokens blanked out, since the
//     SDK puts the request URL in its errors).
//
// Only the SDK's subpackages are imported, never its root package: that
// one's init sets logrus to debug level on stdout for the whole process.
//
// Tokens live in a cache.Cache; RedisCache stores them in Redis (go-redis
// v9) so every instance shares them. UseSimulator points the SDK, process
// wide, at the simulator of package wechat/sim.
package wechat
