// Package task is the task center: marketer-defined tasks, members'
// progress per period, and rewards claimed explicitly once per period.
package task

// Service runs the task center.
type Service struct{}
