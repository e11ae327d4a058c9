package repo

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

// listen opens a loopback listener that accepts connections and records
// that it did; closed when the test ends.
func listen(t *testing.T) (net.Listener, chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, 8)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			got <- struct{}{}
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l, got
}

// deadAddr is an address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestFailoverDialsTheFirstServerThatAnswers(t *testing.T) {
	first, gotFirst := listen(t)
	second, gotSecond := listen(t)
	dead := deadAddr(t)

	c, err := dialFailover(context.Background(), first.Addr().String()+","+second.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	<-gotFirst
	if len(gotSecond) != 0 {
		t.Fatal("the second server got a connection while the first answered")
	}

	c, err = dialFailover(context.Background(), dead+", "+second.Addr().String()+","+first.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	<-gotSecond
	if len(gotFirst) != 0 {
		t.Fatal("the third server got a connection while the second answered")
	}
}

func TestFailoverWithEveryServerDownSaysWhy(t *testing.T) {
	a, b := deadAddr(t), deadAddr(t)
	_, err := dialFailover(context.Background(), a+","+b)
	if err == nil {
		t.Fatal("dial succeeded with no server up")
	}
	if !strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) {
		t.Fatalf("error does not name both servers: %v", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Fatalf("error is not a net.OpError underneath (outage mapping needs it): %T", err)
	}
	if _, err := dialFailover(context.Background(), " , "); err == nil {
		t.Fatal("an empty list dialled")
	}
}
