package config

import "encoding/pem"

// nextPEM returns the DER bytes of the first PEM block of type typ in
// data (skipping blocks of other types) and what follows it, or nil when
// there is none.
func nextPEM(data []byte, typ string) (der, rest []byte) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, nil
		}
		if b.Type == typ {
			return b.Bytes, data
		}
	}
}
