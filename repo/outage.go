package repo

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/jifen/jifen/domain"
)

// An outage is a store that cannot be reached: the database refuses
// connections, drops one (even at COMMIT, when nobody knows whether the
// transaction landed), is shutting down or has no connection left; Redis
// does not answer within its deadline or its circuit is open. Such an
// error becomes a *domain.Error with code Unavailable (503 with
// Retry-After), wrapping the driver's error for the log. Everything else —
// a bug, SQLite still busy after its timeout, a constraint — stays as it
// is, so a 500 means a bug.

// DBUnavailable and RedisUnavailable are the messages clients see.
const (
	DBUnavailable    = "the database is unavailable; retry shortly"
	RedisUnavailable = "a cache the request needs is unavailable; retry shortly"
)

// SQLOutage returns err as Unavailable when it says the database cannot be
// reached, and err unchanged otherwise (nil stays nil; an error that
// already carries a domain code keeps it).
func SQLOutage(err error) error {
	if !sqlDown(err) || hasDomainCode(err) {
		return err
	}
	return fmt.Errorf("%w (%w)", domain.Errorf(domain.Unavailable, DBUnavailable), err)
}

// RedisOutage is SQLOutage for Redis errors.
func RedisOutage(err error) error {
	if !redisDown(err) || hasDomainCode(err) {
		return err
	}
	return fmt.Errorf("%w (%w)", domain.Errorf(domain.Unavailable, RedisUnavailable), err)
}

func hasDomainCode(err error) bool {
	var de *domain.Error
	return errors.As(err, &de)
}

// sqlDown reports a database error that is about reaching the server, not
// about the statement.
func sqlDown(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysqldrv.ErrInvalidConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, context.DeadlineExceeded) || connRefusedOrReset(err) {
		return true
	}
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, // too many connections
			1053, // server shutdown in progress
			1927, // connection was killed
			1290: // --read-only (a failover in progress)
			return true
		}
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// database/sql's errDBClosed is unexported: a closed pool (a process
	// shutting down, or a test's simulated outage on SQLite).
	return strings.Contains(err.Error(), "sql: database is closed")
}

// redisDown reports a Redis error that is about reaching the server: a
// refused or broken connection, a read past its deadline, an exhausted
// pool, a closed client or an open circuit. Redis's own replies (redis.Nil,
// NOSCRIPT, a script error) are answers, not outages.
func redisDown(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrCircuitOpen) || errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrClosed) ||
		errors.Is(err, redis.ErrPoolExhausted) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || connRefusedOrReset(err) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

func connRefusedOrReset(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// outageCallbacks makes every gorm statement report an outage as
// Unavailable, whichever store ran it.
func outageCallbacks(g *gorm.DB) error {
	mark := func(db *gorm.DB) {
		if db.Error != nil {
			db.Error = SQLOutage(db.Error)
		}
	}
	cb := g.Callback()
	for _, err := range []error{
		cb.Create().Register("jifen:outage", mark),
		cb.Query().Register("jifen:outage", mark),
		cb.Update().Register("jifen:outage", mark),
		cb.Delete().Register("jifen:outage", mark),
		cb.Row().Register("jifen:outage", mark),
		cb.Raw().Register("jifen:outage", mark),
	} {
		if err != nil {
			return fmt.Errorf("register outage callback: %w", err)
		}
	}
	return nil
}
