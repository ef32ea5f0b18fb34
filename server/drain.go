package server

import (
	"errors"
	"fmt"

	"github.com/lbtrust/lb/events"
	"github.com/lbtrust/lb/pool"
)

// ErrUnknownPool is returned for a pool name the running configuration
// does not have.
var ErrUnknownPool = errors.New("server: no such pool")

// Drain takes a backend out of rotation on an operator's request (see
// pool.Pool.Drain). Errors wrap ErrUnknownPool or pool.ErrUnknownBackend.
func (lb *LB) Drain(poolName, address string) (pool.BackendStatus, error) {
	p, err := lb.poolNamed(poolName)
	if err != nil {
		return pool.BackendStatus{}, err
	}
	before := backendStatus(p, address)
	if err := p.Drain(address); err != nil {
		return pool.BackendStatus{}, err
	}
	if lb.fleet != nil {
		lb.fleet.publishDrain(poolName, address, true)
	}
	after := backendStatus(p, address)
	lb.recordOperator(events.KindDrain, p.Name(), before, after)
	return after, nil
}

// Undrain lifts an operator's drain (see pool.Pool.Undrain). Errors wrap
// ErrUnknownPool, pool.ErrUnknownBackend or pool.ErrNotDrained.
func (lb *LB) Undrain(poolName, address string) (pool.BackendStatus, error) {
	p, err := lb.poolNamed(poolName)
	if err != nil {
		return pool.BackendStatus{}, err
	}
	before := backendStatus(p, address)
	if err := p.Undrain(address); err != nil {
		return pool.BackendStatus{}, err
	}
	if lb.fleet != nil {
		lb.fleet.publishDrain(poolName, address, false)
	}
	after := backendStatus(p, address)
	lb.recordOperator(events.KindUndrain, p.Name(), before, after)
	return after, nil
}

// poolNamed finds a pool in service.
func (lb *LB) poolNamed(name string) (*pool.Pool, error) {
	for _, p := range lb.Pools() {
		if p.Name() == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownPool, name)
}

// backendStatus is the status of one backend of p (zero if gone).
func backendStatus(p *pool.Pool, address string) pool.BackendStatus {
	for _, b := range p.Status().Backends {
		if b.Address == address {
			return b
		}
	}
	return pool.BackendStatus{Address: address}
}
