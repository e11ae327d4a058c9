package web

import "strings"

// CSVText keeps free text (a campaign's or an item's name, a reason, a
// title: what a marketer or a shopper typed) from being run as a
// spreadsheet formula when an exported CSV is opened: a cell that starts
// with = + - @, a tab or a carriage return gets a leading apostrophe.
// Every CSV export of the console, API or pages, writes such text through
// it.
func CSVText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
