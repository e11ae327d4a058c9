package consoleweb

import (
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every message a template names literally exists in both languages.
func TestTemplatesNameKnownMessages(t *testing.T) {
	key := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	err := fs.WalkDir(files, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			if _, ok := messages[m[1]]; !ok {
				t.Errorf("%s names the unknown message %q", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Every message key the console's code makes an error with ("problem.…")
// exists in both languages: a missing one would show as its key.
func TestErrorsNameKnownMessages(t *testing.T) {
	key := regexp.MustCompile(`"(problem\.[a-z0-9_.]+)"`)
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") || e.Name() == "i18n.go" {
			continue
		}
		b, err := os.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			seen++
			if _, ok := messages[m[1]]; !ok {
				t.Errorf("%s names the unknown message %q", e.Name(), m[1])
			}
		}
	}
	if seen < 10 {
		t.Fatalf("found %d problem keys: the scan is broken", seen)
	}
}

// Chart axes count large numbers as their readers do: 万 and 亿 in
// Chinese, K, M and B in English.
func TestCompactNumbers(t *testing.T) {
	zh, en := languages["zh-CN"], languages["en"]
	for _, c := range []struct {
		n      int64
		zh, en string
	}{{0, "0", "0"}, {9999, "9,999", "10K"}, {10000, "1万", "10K"}, {125000, "12.5万", "125K"},
		{1_234_567, "123.5万", "1.2M"}, {300_000_000, "3亿", "300M"}, {-25000, "-2.5万", "-25K"}, {999, "999", "999"}} {
		if got := zh.Compact(c.n); got != c.zh {
			t.Errorf("zh %d = %q, want %q", c.n, got, c.zh)
		}
		if got := en.Compact(c.n); got != c.en {
			t.Errorf("en %d = %q, want %q", c.n, got, c.en)
		}
	}
	for n, want := range map[int64]int64{0: 4, 3: 4, 7: 8, 45: 60, 100: 100, 1234: 2000, 30: 40, 201: 400} {
		if got := niceCeiling(n); got != want {
			t.Errorf("niceCeiling(%d) = %d, want %d", n, got, want)
		}
	}
}
