package pipeline

import (
	"context"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/crash"
)

// Connecting is a connection to the engine made while the input is being
// read and checked: connecting costs a dial and a probe of the engine, which
// then overlap reading and parsing the Dockerfile. Nothing of a build is
// sent before the face asks for the session with Wait, and the face does so
// only once the input is valid: bad input is reported as such whatever the
// engine answered.
type Connecting struct {
	done   chan struct{}
	sess   Session
	err    error
	cancel context.CancelFunc
	taken  bool // Wait handed the session over: its caller closes it
}

// ConnectAhead starts connecting to the engine opts name.
func ConnectAhead(ctx context.Context, opts engine.Options) *Connecting {
	ctx, cancel := context.WithCancel(ctx)
	c := &Connecting{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(c.done)
		defer crash.Recover(&c.err) // runs before done is closed
		c.sess, c.err = Connect(ctx, opts)
	}()
	return c
}

// Wait returns the session, or why there is none. The caller closes it.
func (c *Connecting) Wait() (Session, error) {
	<-c.done
	c.taken = true
	return c.sess, c.err
}

// Abandon stops connecting and closes the session if one was made and not
// handed over, without waiting.
func (c *Connecting) Abandon() {
	c.cancel()
	if c.taken {
		return
	}
	go func() {
		defer func() { _ = recover() }() // closing an unused connection: nothing to report
		<-c.done
		if c.sess != nil {
			_ = c.sess.Close()
		}
	}()
}
