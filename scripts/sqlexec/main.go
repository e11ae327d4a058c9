// Command sqlexec runs SQL statements on a MySQL/MariaDB DSN through the
// driver the service uses, so scripts/bench needs no mysql client:
//
//	go run ./scripts/sqlexec 'root@tcp(127.0.0.1:3306)/' 'CREATE DATABASE x'
package main

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/go-sql-driver/mysql"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: sqlexec DSN STATEMENT...")
		os.Exit(2)
	}
	db, err := sql.Open("mysql", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlexec:", err)
		os.Exit(1)
	}
	defer db.Close()
	for _, q := range os.Args[2:] {
		if _, err := db.Exec(q); err != nil {
			fmt.Fprintf(os.Stderr, "sqlexec: %s: %v\n", q, err)
			os.Exit(1)
		}
	}
}
