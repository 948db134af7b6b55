// Go's net/http server stopped the way its documentation describes: on SIGTERM, Shutdown
// closes the listeners and waits for the active connections to finish; ListenAndServe returns
// at once, so main waits for Shutdown to return before it exits 0.
package main

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil {
			ms = 1000
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		w.Write([]byte("ok\n"))
	})
	server := &http.Server{Addr: "127.0.0.1:" + os.Getenv("PORT"), Handler: mux}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	drained := make(chan struct{})
	go func() {
		<-stop
		server.Shutdown(context.Background())
		close(drained)
	}()
	if err := server.ListenAndServe(); err != http.ErrServerClosed {
		os.Exit(1)
	}
	<-drained
}
