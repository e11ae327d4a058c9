package member

import (
	"context"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
)

// # Grouped logins
//
// A login made outside a caller's transaction is handed to a
// batch.Committer once WeChat has named the user (code2session runs per
// request, before). A group commits in ONE unit of work, each step made
// once for the whole group:
//
//  1. the members of the group's openids read (Store.ByOpenIDs);
//  2. the new members inserted (Store.CreateMany) and each Registered
//     hook run for all of them (RegisteredHook.Many, or One per member);
//  3. the returning members' logins recorded (Store.TouchLogins; one who
//     brings a unionid the member lacks goes through Store.UpdateLogin);
//  4. every login's session started (Sessions, one call).
//
// A second login of an openid already in the group runs alone after the
// group (and finds the member the group made). A group that finds one of
// its new members made by a concurrent login (a Conflict) runs again,
// reading it afresh, a few times. When the unit of work fails otherwise —
// a hook failed, say — every login of the group runs alone through the
// one-by-one path, which decides everything again: a login's answer never
// depends on the company it had.

// groupAttempts is how many times a group runs before its logins run
// alone.
const groupAttempts = 3

type loginJob struct {
	ctx  context.Context
	sess WeChatSession
	info LoginInfo
	now  time.Time
	done chan loginResult
}

type loginResult struct {
	login Login
	err   error
	alone bool // run it through the one-by-one path
}

// GroupStats reports how many groups of logins have committed and how
// many logins they answered (the rest ran alone).
func (s *Service) GroupStats() (groups, grouped int64) {
	return s.group.Stats()
}

// grouping reports whether a login with ctx can be group-committed.
func (s *Service) grouping(ctx context.Context) bool {
	return s.GroupCommit.On(ctx, s.Tx)
}

// submit queues a login for group commit and waits for its answer.
func (s *Service) submit(ctx context.Context, sess WeChatSession, info LoginInfo, now time.Time) loginResult {
	j := &loginJob{ctx: ctx, sess: sess, info: info, now: now, done: make(chan loginResult, 1)}
	s.group.Submit(s.GroupCommit, s.runGroup, j)
	// Once queued the job is answered whatever happens to ctx: the group
	// may already have committed it.
	return <-j.done
}

func (s *Service) runGroup(jobs []*loginJob) {
	var group, again []*loginJob
	seen := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		if seen[j.sess.OpenID] {
			again = append(again, j)
			continue
		}
		seen[j.sess.OpenID] = true
		group = append(group, j)
	}
	var answers []Login
	var err error
	for attempt := 0; attempt < groupAttempts; attempt++ {
		err = batch.InTx(context.WithoutCancel(group[0].ctx), s.Tx, func(ctx context.Context) error {
			// Runs again after a deadlock: everything is decided afresh.
			var err error
			answers, err = s.loginGroup(ctx, group)
			return err
		})
		// A member made by a concurrent login (a double tap landing in
		// two groups) is found by the next attempt's first read.
		if domain.ErrorCode(err) != domain.Conflict {
			break
		}
	}
	if err == nil {
		s.group.Done(len(group))
	}
	for i, j := range group {
		if err != nil {
			j.done <- loginResult{alone: true}
			continue
		}
		j.done <- loginResult{login: answers[i]}
	}
	for _, j := range again {
		j.done <- loginResult{alone: true}
	}
}

// loginGroup logs jobs (distinct openids) in, in ctx's unit of work, and
// answers them in order.
func (s *Service) loginGroup(ctx context.Context, jobs []*loginJob) ([]Login, error) {
	openids := make([]string, len(jobs))
	var at time.Time // returning members' logins are recorded at the latest
	for i, j := range jobs {
		openids[i] = j.sess.OpenID
		if j.now.After(at) {
			at = j.now
		}
	}
	found, err := s.Store.ByOpenIDs(ctx, openids)
	if err != nil {
		return nil, err
	}
	out := make([]Login, len(jobs))
	var fresh []*Member
	var regs []Registration
	var touched []int64
	for i, j := range jobs {
		m, ok := found[j.sess.OpenID]
		if !ok {
			m = newMember(j.sess, j.now)
			fresh = append(fresh, m)
			regs = append(regs, Registration{Member: m, Info: j.info})
			out[i] = Login{Member: m, IsNew: true}
			continue
		}
		out[i] = Login{Member: m}
		m.LastActive = at
		if learnUnionID(m, j.sess) {
			if err := s.Store.UpdateLogin(ctx, m.ID, j.sess.UnionID, at); err != nil {
				return nil, err
			}
			continue
		}
		touched = append(touched, m.ID)
	}
	if len(fresh) > 0 {
		if err := s.Store.CreateMany(ctx, fresh); err != nil {
			return nil, err
		}
		if err := s.registered(ctx, regs); err != nil {
			return nil, err
		}
	}
	if len(touched) > 0 {
		if err := s.Store.TouchLogins(ctx, touched, at); err != nil {
			return nil, err
		}
	}
	if s.Sessions == nil {
		return out, nil
	}
	ids := make([]int64, len(out))
	for i := range out {
		ids[i] = out[i].Member.ID
	}
	ss, err := s.Sessions(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Session = &ss[i]
	}
	return out, nil
}
