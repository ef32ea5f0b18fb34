// Package htmlcheck verifies, for the benchmark's tests, that an HTML
// report is a well-formed, self-contained page: it parses, has a title and
// inline SVG charts, and nothing in it would fetch anything.
package htmlcheck

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html"
)

// fetchingElement reports whether an element loads content from a URL
// whatever its attributes.
func fetchingElement(name string) bool {
	switch name {
	case "link", "iframe", "object", "embed", "img", "audio", "video", "source", "base":
		return true
	}
	return false
}

// resourceAttr reports whether an attribute names a resource to load (or
// navigate to).
func resourceAttr(name string) bool {
	switch name {
	case "src", "href", "xlink:href", "action", "srcset", "poster", "data", "background", "formaction":
		return true
	}
	return false
}

// Check parses the page and returns every problem found, and how many
// <svg> elements it holds.
func Check(r io.Reader) (problems []string, svgs int) {
	doc, err := html.Parse(r)
	if err != nil {
		return []string{"does not parse: " + err.Error()}, 0
	}
	title := false
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "svg":
				svgs++
			case n.Data == "title" && n.Parent != nil && n.Parent.Data == "head":
				title = true
			case fetchingElement(n.Data):
				problems = append(problems, fmt.Sprintf("<%s> element fetches content", n.Data))
			case n.Data == "style":
				if c := n.FirstChild; c != nil && (strings.Contains(c.Data, "url(") || strings.Contains(c.Data, "@import")) {
					problems = append(problems, "the stylesheet loads a resource")
				}
			case n.Data == "script":
				if c := n.FirstChild; c != nil && (strings.Contains(c.Data, "fetch(") || strings.Contains(c.Data, "XMLHttpRequest") || strings.Contains(c.Data, "import(")) {
					problems = append(problems, "a script fetches something")
				}
			}
			for _, a := range n.Attr {
				switch {
				case resourceAttr(a.Key):
					problems = append(problems, fmt.Sprintf("<%s %s=%q> refers to a resource", n.Data, a.Key, a.Val))
				case a.Key == "style" && strings.Contains(a.Val, "url("):
					problems = append(problems, fmt.Sprintf("<%s style=%q> loads a resource", n.Data, a.Val))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if !title {
		problems = append(problems, "no <title> in <head>")
	}
	return problems, svgs
}
