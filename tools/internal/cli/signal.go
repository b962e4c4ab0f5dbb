package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// InterruptContext returns a context that SIGINT or SIGTERM cancels, so a
// tool can finish its current frame or step and save what it must. After the
// first signal the default handling is restored, so a second Ctrl-C kills a
// process that is stuck (waiting for input, say) at once. Call stop when done.
func InterruptContext() (ctx context.Context, stop context.CancelFunc) {
	ctx, stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}
