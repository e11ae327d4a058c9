// Package hooks holds the server-to-server handlers (/api/v1/hooks): WeCom
// callbacks, checked (msg_signature) and decrypted with the WeChat SDK's
// helpers before anything reads them.
package hooks

import "github.com/jifen/jifen/domain/guide"

// WeCom serves the WeCom app's callback URL.
type WeCom struct {
	Guides *guide.Service
	CorpID string
	Token  string
	AESKey string
}
