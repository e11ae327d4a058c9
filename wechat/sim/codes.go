package sim

// maxCodes is how many used codes the simulator remembers (login, WeCom
// OAuth and getPhoneNumber codes, each): about 10 MB at most, so an
// embedded serve that runs for months does not grow with every login. A
// code is refused again while it is remembered; the oldest are forgotten
// first, after maxCodes newer ones.
const maxCodes = 100_000

// codeMemory maps codes to what the simulator keeps about them, forgetting
// the oldest past its bound. Guarded by Server.mu.
type codeMemory[V any] struct {
	max   int
	m     map[string]V
	order []string // ring of the keys, oldest at next once full
	next  int
}

func newCodeMemory[V any](max int) *codeMemory[V] {
	return &codeMemory[V]{max: max, m: map[string]V{}}
}

func (c *codeMemory[V]) get(code string) (V, bool) {
	v, ok := c.m[code]
	return v, ok
}

// put remembers code (again: its value replaced, its age kept).
func (c *codeMemory[V]) put(code string, v V) {
	if _, ok := c.m[code]; ok {
		c.m[code] = v
		return
	}
	if len(c.order) < c.max {
		c.order = append(c.order, code)
	} else {
		delete(c.m, c.order[c.next])
		c.order[c.next] = code
		c.next = (c.next + 1) % c.max
	}
	c.m[code] = v
}

func (c *codeMemory[V]) len() int { return len(c.m) }
