// Package streamtest holds the checks tests of servers that serve package
// stream's endpoints share.
package streamtest

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/lbtrust/lb/demo/stream"
)

// CheckBytesAndUpload checks that the server at addr serves a 3 MiB
// /bytes download of seed (chunked or with its length) byte for byte,
// tagged with header = name, and that /upload takes a 2 MiB body and
// reports its size and digest. It reports failures on t and stops the
// test when a request cannot be made.
func CheckBytesAndUpload(t testing.TB, c *http.Client, addr, header, name string, seed uint64, chunked bool) {
	t.Helper()
	content := stream.NewContent(seed)
	resp, err := c.Get("http://" + addr + stream.Bytes{N: 3 << 20, Seed: seed, Chunked: chunked}.Path())
	if err != nil {
		t.Fatal(err)
	}
	v := stream.NewVerifier(content, 3<<20)
	_, err = io.Copy(v, resp.Body)
	resp.Body.Close()
	if err != nil || v.Check() != nil || resp.Header.Get(header) != name {
		t.Errorf("/bytes: %v %v, %s %q", err, v.Check(), header, resp.Header.Get(header))
	}

	resp, err = c.Post("http://"+addr+stream.PathUpload, "application/octet-stream", stream.NewReader(content, 2<<20))
	if err != nil {
		t.Fatal(err)
	}
	var up stream.UploadResult
	err = json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if err != nil || up.Bytes != 2<<20 || up.SHA256 != stream.Digest(content, 2<<20) {
		t.Errorf("/upload: %+v %v", up, err)
	}
}
