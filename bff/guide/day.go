package guide

import (
	"time"

	"github.com/jifen/jifen/domain"
)

func domainDay(t time.Time) string { return domain.DayOf(t).String() }
