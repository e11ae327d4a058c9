package reminder

import (
	"hash/fnv"
	"strconv"
	"time"
)

// MaxHoldoutPermille bounds a holdout share: at most half the audience is
// left out, so the reached group is never the smaller one by design.
const MaxHoldoutPermille = 500

// HeldOut reports whether a member falls in the holdout (control) group of
// salt at a share of permille: a hash of salt and the member id, below the
// share. The same member, salt and share always give the same answer, so a
// resumed run, a rerun or another instance leaves out the same members,
// and every run of a campaign (salt "campaign:<id>") holds out the same
// ones.
func HeldOut(salt string, memberID int64, permille int) bool {
	if permille <= 0 {
		return false
	}
	h := fnv.New64a()
	h.Write([]byte(salt))
	h.Write([]byte{':'})
	h.Write([]byte(strconv.FormatInt(memberID, 10)))
	return int(h.Sum64()%1000) < permille
}

// holdOut turns a delivery that would have gone out into a holdout row:
// recorded with the time it would have been sent (after the quiet window,
// as the dispatcher would have waited), never claimed by the dispatcher.
func holdOut(d *Delivery, now time.Time) {
	d.Status = Holdout
	d.NextAt = now
	if end, quiet := d.Quiet.Wait(now); quiet {
		d.NextAt = end
	}
}
