// Package boardstore implements the leaderboard cache over Redis sorted sets,
// the member profiles boards show, and the built-in boards' rebuild
// queries.
package boardstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/leaderboard"
	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/signinstore"
)

// Cache implements leaderboard.Cache. An instance is two keys in one
// Cluster slot: the sorted set and a "built" marker (a board with no
// members is still built).
type Cache struct{ R *repo.Redis }

var _ leaderboard.Cache = (*Cache)(nil)

func (c *Cache) keys(key string) (zset, marker string) {
	base := c.R.Key("lb", "{"+key+"}")
	return base, base + ":built"
}

// Only change an instance that is built; a missing one is rebuilt from SQL.
// ARGV is one or more triples (op, score, member), applied in order: "set"
// sets the score, anything else adds it.
var changeIfBuilt = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then
  for i = 1, #ARGV, 3 do
    if ARGV[i] == 'set' then redis.call('ZADD', KEYS[1], ARGV[i+1], ARGV[i+2]) else redis.call('ZINCRBY', KEYS[1], ARGV[i+1], ARGV[i+2]) end
  end
end
return 0`)

// Top reads the first entries.
func (c *Cache) Top(ctx context.Context, key string, limit int) ([]leaderboard.Entry, bool, error) {
	z, m := c.keys(key)
	var built *redis.IntCmd
	var rng *redis.ZSliceCmd
	_, err := c.R.C.Pipelined(ctx, func(p redis.Pipeliner) error {
		built = p.Exists(ctx, m)
		rng = p.ZRevRangeWithScores(ctx, z, 0, int64(limit-1))
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if built.Val() == 0 {
		return nil, false, nil
	}
	out := make([]leaderboard.Entry, 0, len(rng.Val()))
	for i, zz := range rng.Val() {
		id, _ := strconv.ParseInt(zz.Member.(string), 10, 64)
		out = append(out, leaderboard.Entry{MemberID: id, Score: int64(zz.Score), Rank: i + 1})
	}
	return out, true, nil
}

// Own reads one member's rank and score.
func (c *Cache) Own(ctx context.Context, key string, memberID int64) (leaderboard.Entry, bool, error) {
	z, _ := c.keys(key)
	id := strconv.FormatInt(memberID, 10)
	var rank *redis.IntCmd
	var score *redis.FloatCmd
	_, err := c.R.C.Pipelined(ctx, func(p redis.Pipeliner) error {
		rank = p.ZRevRank(ctx, z, id)
		score = p.ZScore(ctx, z, id)
		return nil
	})
	if err == redis.Nil {
		return leaderboard.Entry{MemberID: memberID}, false, nil
	}
	if err != nil {
		return leaderboard.Entry{}, false, err
	}
	return leaderboard.Entry{MemberID: memberID, Score: int64(score.Val()), Rank: int(rank.Val()) + 1}, true, nil
}

// Fill replaces the instance.
func (c *Cache) Fill(ctx context.Context, key string, scores map[int64]int64, ttl time.Duration) error {
	z, m := c.keys(key)
	members := make([]redis.Z, 0, len(scores))
	for _, e := range leaderboard.Rank(scores) {
		members = append(members, redis.Z{Score: float64(e.Score), Member: strconv.FormatInt(e.MemberID, 10)})
	}
	_, err := c.R.C.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, z)
		for i := 0; i < len(members); i += 1000 {
			p.ZAdd(ctx, z, members[i:min(i+1000, len(members))]...)
		}
		p.Expire(ctx, z, ttl)
		p.Set(ctx, m, "1", ttl)
		return nil
	})
	return err
}

// Incr adds delta when built.
func (c *Cache) Incr(ctx context.Context, key string, memberID, delta int64) error {
	return c.Update(ctx, []leaderboard.Change{{Key: key, MemberID: memberID, Score: delta}})
}

// Set sets the score when built.
func (c *Cache) Set(ctx context.Context, key string, memberID, score int64) error {
	return c.Update(ctx, []leaderboard.Change{{Key: key, MemberID: memberID, Score: score, Set: true}})
}

// Update applies the changes with one script call per instance they name
// (a group of sign-ins: one per board, whatever its size), all in one
// pipeline; a server that lacks the script (NOSCRIPT) has the failed ones
// run again, loading it.
func (c *Cache) Update(ctx context.Context, changes []leaderboard.Change) error {
	type call struct {
		keys []string
		args []any
	}
	var calls []call
	at := map[string]int{}
	for _, ch := range changes {
		i, ok := at[ch.Key]
		if !ok {
			z, m := c.keys(ch.Key)
			i = len(calls)
			at[ch.Key] = i
			calls = append(calls, call{keys: []string{z, m}})
		}
		op := "incr"
		if ch.Set {
			op = "set"
		}
		calls[i].args = append(calls[i].args, op, ch.Score, strconv.FormatInt(ch.MemberID, 10))
	}
	cmds := make([]*redis.Cmd, len(calls))
	_, err := c.R.C.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, cl := range calls {
			cmds[i] = changeIfBuilt.EvalSha(ctx, p, cl.keys, cl.args...)
		}
		return nil
	})
	if err == nil {
		return nil
	}
	for i, cmd := range cmds {
		if cmd.Err() != nil && redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			if err := changeIfBuilt.Run(ctx, c.R.C, calls[i].keys, calls[i].args...).Err(); err != nil {
				return err
			}
		} else if cmd.Err() != nil && cmd.Err() != redis.Nil {
			return cmd.Err()
		}
	}
	return nil
}

// Profiles reads members' nicknames and avatars.
type Profiles struct{ DB *repo.DB }

// Profiles implements leaderboard.Profiles.
func (p *Profiles) Profiles(ctx context.Context, ids []int64) (map[int64]leaderboard.Profile, error) {
	out := map[int64]leaderboard.Profile{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID        int64
		Nickname  string
		AvatarURL string
	}
	if err := p.DB.Conn(ctx).Table("members").Select("id, nickname, avatar_url").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = leaderboard.Profile{Nickname: r.Nickname, AvatarURL: r.AvatarURL}
	}
	return out, nil
}

// PointsWeek is the points_week board: points earned (ledger earn entries)
// in the ISO week, Asia/Shanghai.
func PointsWeek(db *repo.DB) leaderboard.Board {
	return leaderboard.Func{BoardName: leaderboard.PointsWeek, PeriodOf: leaderboard.WeekPeriod,
		ScoresOf: func(ctx context.Context, now time.Time) (map[int64]int64, error) {
			monday, _ := leaderboard.Week(now)
			var rows []struct {
				MemberID int64
				Total    int64
			}
			err := db.Conn(ctx).Table("ledger_entries").Select("member_id, SUM(amount) AS total").
				Where("kind = ? AND created_at >= ? AND created_at < ?", "earn", monday.Start().UTC(), monday.AddDays(7).Start().UTC()).
				Group("member_id").Find(&rows).Error
			if err != nil {
				return nil, err
			}
			out := make(map[int64]int64, len(rows))
			for _, r := range rows {
				out[r.MemberID] = r.Total
			}
			return out, nil
		}}
}

// SigninStreak is the signin_streak board: each member's current streak
// (ending today or yesterday), one instance per day.
func SigninStreak(st *signinstore.Store) leaderboard.Board {
	return leaderboard.Func{BoardName: leaderboard.SigninStreak, PeriodOf: leaderboard.DayPeriod,
		ScoresOf: func(ctx context.Context, now time.Time) (map[int64]int64, error) {
			s, err := st.Streaks(ctx, domain.DayOf(now))
			if err != nil {
				return nil, err
			}
			out := make(map[int64]int64, len(s))
			for m, v := range s {
				out[m] = int64(v)
			}
			return out, nil
		}}
}
