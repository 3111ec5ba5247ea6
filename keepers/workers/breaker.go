package workers

import "time"

// breaker is a worker's circuit breaker: closed (requests flow), open (no
// requests until the cool-down ends), half-open (one trial request; its
// success closes the circuit, its failure reopens it for twice as long, up
// to 8x the base cool-down). Guarded by Worker.mu.
type breaker struct {
	failures      int
	open          bool
	openUntil     time.Time
	cooldown      time.Duration
	trialInFlight bool
}

type circuit int

const (
	circuitClosed circuit = iota
	circuitOpen
	circuitHalfOpen
)

func (c circuit) String() string {
	switch c {
	case circuitOpen:
		return "open"
	case circuitHalfOpen:
		return "half-open"
	}
	return "closed"
}

func (b *breaker) state(now time.Time) circuit {
	switch {
	case !b.open:
		return circuitClosed
	case now.Before(b.openUntil):
		return circuitOpen
	default:
		return circuitHalfOpen
	}
}

func (w *Worker) breakerReady(now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch w.breaker.state(now) {
	case circuitOpen:
		return false
	case circuitHalfOpen:
		return !w.breaker.trialInFlight
	}
	return true
}

// breakerAcquire admits one request; trial is set for the half-open probe.
func (w *Worker) breakerAcquire(now time.Time, base time.Duration) (trial, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch w.breaker.state(now) {
	case circuitOpen:
		return false, false
	case circuitHalfOpen:
		if w.breaker.trialInFlight {
			return false, false
		}
		w.breaker.trialInFlight = true
		return true, true
	}
	return false, true
}

func (w *Worker) breakerRecord(o Outcome, trial bool, now time.Time, threshold int, base time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := &w.breaker
	if trial {
		b.trialInFlight = false
		switch o {
		case Success:
			*b = breaker{}
		case WorkerFault:
			b.cooldown = min(2*b.cooldown, 8*base)
			b.openUntil = now.Add(b.cooldown)
		}
		return
	}
	switch o {
	case Success:
		if !b.open {
			b.failures = 0
		}
	case WorkerFault:
		b.failures++
		if !b.open && b.failures >= threshold {
			b.open = true
			b.cooldown = base
			b.openUntil = now.Add(base)
		}
	}
}
