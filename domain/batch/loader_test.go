package batch

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// Lookups made while a Load runs are answered by the next Load, one for
// all of their keys (each key once), every caller getting its own value.
func TestLoaderReadsConcurrentKeysInOneLoad(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var loads [][]int
	l := &Loader[int, string]{Load: func(_ context.Context, keys []int) (map[int]string, error) {
		mu.Lock()
		first := len(loads) == 0
		loads = append(loads, slices.Clone(keys))
		mu.Unlock()
		if first {
			<-release // hold the first load while the others queue
		}
		out := map[int]string{}
		for _, k := range keys {
			if k != 13 { // 13 is not there
				out[k] = string(rune('a' + k))
			}
		}
		return out, nil
	}}
	ctx := context.Background()
	got := make([]string, 21)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); got[0], _ = l.Get(ctx, 0) }()
	for {
		mu.Lock()
		n := len(loads)
		mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for i := 1; i < 21; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := i
			if i > 15 {
				k = 5 // the same key asked for again
			}
			got[i], _ = l.Get(ctx, k)
		}()
	}
	// The Batcher's queue holds the 20 lookups once they are submitted.
	deadline := time.Now().Add(5 * time.Second)
	for l.c.b == nil || len(l.c.b.queue) < 20 {
		if time.Now().After(deadline) {
			t.Fatal("the lookups did not queue")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if len(loads) != 2 {
		t.Fatalf("%d loads (%v); want 2: the held one, then all the others", len(loads), loads)
	}
	second := slices.Sorted(slices.Values(loads[1]))
	want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	if !slices.Equal(second, want) {
		t.Fatalf("second load read %v; want each key once: %v", second, want)
	}
	for i, v := range got {
		k := i
		if i > 15 {
			k = 5
		}
		w := string(rune('a' + k))
		if k == 13 {
			w = ""
		}
		if v != w {
			t.Errorf("lookup %d of key %d got %q; want %q", i, k, v, w)
		}
	}
	if loadsRun, answered := l.Stats(); loadsRun != 2 || answered != 21 {
		t.Fatalf("stats %d loads, %d answered; want 2, 21", loadsRun, answered)
	}
}

// A failed Load fails every lookup it carried.
func TestLoaderFailureReachesEveryCaller(t *testing.T) {
	boom := errors.New("boom")
	l := &Loader[int, int]{Load: func(context.Context, []int) (map[int]int, error) { return nil, boom }}
	if _, err := l.Get(context.Background(), 1); !errors.Is(err, boom) {
		t.Fatalf("got %v; want the load's error", err)
	}
}
