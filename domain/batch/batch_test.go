package batch

import (
	"sync"
	"sync/atomic"
	"testing"
)

type job struct {
	n    int
	done chan int
}

func TestBatcherAnswersEveryJobAndGroupsConcurrentOnes(t *testing.T) {
	var groups, biggest atomic.Int64
	b := &Batcher[job]{Committers: 1, Max: 50, Run: func(jobs []job) {
		groups.Add(1)
		if n := int64(len(jobs)); n > biggest.Load() {
			biggest.Store(n)
		}
		for _, j := range jobs {
			j.done <- j.n * 2
		}
	}}
	const n = 500
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := job{n: i, done: make(chan int, 1)}
			b.Submit(j)
			if <-j.done != 2*i {
				wrong.Add(1)
			}
		}()
	}
	wg.Wait()
	if wrong.Load() != 0 {
		t.Fatalf("%d jobs got another job's answer", wrong.Load())
	}
	if groups.Load() >= n || biggest.Load() < 2 {
		t.Fatalf("%d groups for %d jobs, biggest %d: nothing was grouped", groups.Load(), n, biggest.Load())
	}
	if biggest.Load() > 50 {
		t.Fatalf("a group of %d exceeds Max 50", biggest.Load())
	}
}

// CappedAt defaults Max and holds it to what the store writes at once.
func TestSettingsCappedAt(t *testing.T) {
	for _, c := range []struct{ max, limit, want int }{
		{0, 1000, DefaultMax}, {-1, 1000, DefaultMax}, {0, 10, 10}, {200, 100, 100}, {20, 100, 20},
	} {
		got := Settings{Committers: 2, Max: c.max}.CappedAt(c.limit)
		if got.Max != c.want || got.Committers != 2 {
			t.Errorf("Max %d capped at %d: %+v, want Max %d", c.max, c.limit, got, c.want)
		}
	}
}
