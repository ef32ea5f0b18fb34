package healthcheck

// schedule is a min-heap of when running checkers probe next, earliest
// first: a Group's one timer waits for its top. Each entry's run knows its
// index (running.slot), so a stopped run leaves at once. Typed by hand
// rather than through container/heap, whose interface boxes every entry
// it is given. Not safe for concurrent use: the Group guards it.
type schedule []entry

// entry is one checker's next probe: at, in ns since the Group's epoch.
type entry struct {
	at int64
	r  *running
}

// push adds e; e.r must not be in s.
func (s *schedule) push(e entry) {
	*s = append(*s, e)
	s.set(len(*s)-1, e)
	s.up(len(*s) - 1)
}

// pop removes and returns the earliest entry; s must not be empty.
func (s *schedule) pop() entry {
	top := (*s)[0]
	s.remove(0)
	return top
}

// remove takes out the entry at index i.
func (s *schedule) remove(i int) {
	h := *s
	last := len(h) - 1
	h[i].r.slot = -1
	if i != last {
		s.set(i, h[last])
	}
	h[last] = entry{}
	*s = h[:last]
	if i != last {
		s.down(i)
		s.up(i)
	}
}

// set places e at index i.
func (s schedule) set(i int, e entry) {
	s[i] = e
	e.r.slot = i
}

// up moves the entry at i toward the top while it is earlier than its parent.
func (s schedule) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if s[parent].at <= s[i].at {
			return
		}
		a, b := s[parent], s[i]
		s.set(parent, b)
		s.set(i, a)
		i = parent
	}
}

// down moves the entry at i away from the top while a child is earlier.
func (s schedule) down(i int) {
	for {
		l, small := 2*i+1, i
		if l < len(s) && s[l].at < s[small].at {
			small = l
		}
		if r := l + 1; r < len(s) && s[r].at < s[small].at {
			small = r
		}
		if small == i {
			return
		}
		a, b := s[i], s[small]
		s.set(i, b)
		s.set(small, a)
		i = small
	}
}
