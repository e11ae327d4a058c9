package wechat

import (
	"context"
	"testing"
	"time"
)

func TestRedisCache(t *testing.T) {
	c, mr := newCache(t)
	ctx := context.Background()

	if got := c.Get("k"); got != nil {
		t.Fatalf("missing key: %v", got)
	}
	if c.IsExist("k") {
		t.Fatal("missing key exists")
	}
	if err := c.Set("k", "v1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := c.Get("k"); got != "v1" {
		t.Fatalf("Get: %#v", got)
	}
	if !mr.Exists("jifen:wechat:k") || mr.TTL("jifen:wechat:k") != time.Minute {
		t.Fatalf("stored as %v with TTL %v", mr.Keys(), mr.TTL("jifen:wechat:k"))
	}
	if err := c.SetContext(ctx, "b", []byte("bytes"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := c.GetContext(ctx, "b"); got != "bytes" {
		t.Fatalf("[]byte value read back as %#v", got)
	}
	if err := c.Set("n", 42, time.Minute); err == nil {
		t.Fatal("an int was accepted")
	}
	if !c.IsExistContext(ctx, "k") {
		t.Fatal("IsExist after Set")
	}

	mr.FastForward(time.Minute)
	if got := c.Get("k"); got != nil {
		t.Fatalf("expired key: %v", got)
	}

	if err := c.Set("k", "v2", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("k", "stale", 0); err != nil {
		t.Fatal(err)
	}
	if c.IsExist("k") {
		t.Fatal("a zero timeout stored a value or kept the old one")
	}
	if err := c.Set("k", "v3", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if c.Get("k") != nil {
		t.Fatal("Delete kept the value")
	}
	if err := c.DeleteContext(ctx, "never-set"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
}
