package runtime

import (
	"sync"
	"sync/atomic"
)

// job is a layer's work split into independent units. Each unit writes its
// own part of the output, and every value is computed by one unit in a fixed
// order, so the result does not depend on which worker runs which unit: that
// is what makes results identical for any thread count.
type job interface {
	// unit runs unit u on worker w (0 ≤ w < threads), which owns scratch
	// buffer w for the duration of the call.
	unit(w, u int)
}

// pool runs jobs on a fixed set of goroutines. Workers take units from a
// shared counter, so uneven units balance themselves. Dispatch allocates
// nothing.
type pool struct {
	n     int
	start []chan struct{}
	quit  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup

	// Set by run before workers are woken, cleared after they finish.
	job   job
	units int
	next  atomic.Int64
}

func newPool(n int) *pool {
	p := &pool{n: n, quit: make(chan struct{})}
	p.start = make([]chan struct{}, n)
	for w := 1; w < n; w++ {
		p.start[w] = make(chan struct{})
		go p.worker(w)
	}
	return p
}

func (p *pool) worker(w int) {
	for {
		select {
		case <-p.start[w]:
			p.loop(w)
			p.wg.Done()
		case <-p.quit:
			return
		}
	}
}

func (p *pool) loop(w int) {
	for {
		u := int(p.next.Add(1) - 1)
		if u >= p.units {
			return
		}
		p.job.unit(w, u)
	}
}

// run executes units 0..units-1 of j and returns when all are done.
func (p *pool) run(j job, units int) {
	if units <= 0 {
		return
	}
	nw := min(p.n, units)
	if nw == 1 {
		for u := 0; u < units; u++ {
			j.unit(0, u)
		}
		return
	}
	p.job, p.units = j, units
	p.next.Store(0)
	p.wg.Add(nw - 1)
	for w := 1; w < nw; w++ {
		p.start[w] <- struct{}{}
	}
	p.loop(0)
	p.wg.Wait()
	p.job = nil
}

// close stops the workers. It is safe to call more than once.
func (p *pool) close() { p.once.Do(func() { close(p.quit) }) }
