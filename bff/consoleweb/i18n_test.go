package consoleweb

import (
	"io/fs"
	"regexp"
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
