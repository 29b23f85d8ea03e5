// Copyright 2017 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package argon2 computes Argon2id and Argon2i (version 0x13) in memory
// that the caller keeps from one computation to the next.
//
// It is golang.org/x/crypto/argon2 with two changes, both in this file.
// That package allocates a fresh, zeroed block array for every key,
// because its first pass XORs each new block into memory it assumes is
// zero, so every key pays for zeroing and paging in its memory, and the
// collector must free it. Here the first pass writes each block outright,
// as the algorithm defines it, so the memory may hold anything beforehand:
// a [Memory] is made once, outside the Go heap, and reused. And a single lane is computed on the calling
// goroutine instead of a new goroutine per segment. The keys are those of
// golang.org/x/crypto/argon2, which the tests check for every parameter
// shape. Every other file is that package's, byte for byte, and a test
// compares them with the version go.mod names.
package argon2

import (
	"encoding/binary"
	"runtime"
	"sync"

	"golang.org/x/crypto/blake2b"
)

// The Argon2 version implemented by this package.
const Version = 0x13

const (
	argon2d = iota
	argon2i
	argon2id
)

// Memory is the working memory of one Argon2 computation at a time,
// reused from one to the next. It is not safe for concurrent use.
type Memory struct {
	blocks  []block
	unmap   func() // nil when blocks are in the Go heap
	cleanup runtime.Cleanup
}

// NewMemory returns working memory for computations of up to kib KiB.
// Where the system has mmap it is mapped outside the Go heap, costs
// nothing until a computation first writes it, and is unmapped by Free or
// once the Memory is garbage; elsewhere, and in builds with the race
// detector (which cannot see accesses to mapped memory), it is an
// allocation in the Go heap.
func NewMemory(kib uint32) *Memory {
	if kib == 0 {
		return &Memory{}
	}
	blocks, unmap, ok := mapBlocks(int(kib))
	if !ok {
		return &Memory{blocks: make([]block, kib)}
	}
	m := &Memory{blocks: blocks, unmap: unmap}
	m.cleanup = runtime.AddCleanup(m, func(unmap func()) { unmap() }, unmap)
	return m
}

// Free gives m's memory back to the system now, rather than when m is
// garbage. m stays usable, as a Memory of no KiB.
func (m *Memory) Free() {
	if m.unmap != nil {
		m.cleanup.Stop()
		m.unmap()
	}
	*m = Memory{}
}

// KiB is how much memory m holds; a nil m holds none.
func (m *Memory) KiB() uint32 {
	if m == nil {
		return 0
	}
	return uint32(len(m.blocks))
}

// IDKey derives a key of keyLen bytes from password and salt with
// Argon2id, time passes over memory KiB, and threads lanes computed in
// parallel. time and threads must be at least 1.
//
// The computation runs in m when m holds enough memory (see [Memory.KiB]),
// and otherwise in memory made for this call and freed when it returns; a
// nil m is allowed. Either way the key is the same.
func (m *Memory) IDKey(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	return m.deriveKey(argon2id, password, salt, nil, nil, time, memory, threads, keyLen)
}

// Key derives a key as IDKey does, with Argon2i.
func (m *Memory) Key(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	return m.deriveKey(argon2i, password, salt, nil, nil, time, memory, threads, keyLen)
}

func (m *Memory) deriveKey(mode int, password, salt, secret, data []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	if time < 1 {
		panic("argon2: number of rounds too small")
	}
	if threads < 1 {
		panic("argon2: parallelism degree too low")
	}
	h0 := initHash(password, salt, secret, data, time, memory, uint32(threads), keyLen, mode)

	memory = memory / (syncPoints * uint32(threads)) * (syncPoints * uint32(threads))
	if memory < 2*syncPoints*uint32(threads) {
		memory = 2 * syncPoints * uint32(threads)
	}
	if m.KiB() < memory {
		// Memory of its own for this computation, given back at once.
		own := NewMemory(memory)
		defer own.Free()
		m = own
	}
	B := m.blocks[:memory]
	initBlocks(B, &h0, uint32(threads))
	processBlocks(B, time, memory, uint32(threads), mode)
	key := extractKey(B, memory, uint32(threads), keyLen)
	// B may be memory mapped for m, which m's cleanup unmaps: m must stay
	// reachable until B is no longer used.
	runtime.KeepAlive(m)
	return key
}

const (
	blockLength = 128
	syncPoints  = 4
)

type block [blockLength]uint64

func initHash(password, salt, key, data []byte, time, memory, threads, keyLen uint32, mode int) [blake2b.Size + 8]byte {
	var (
		h0     [blake2b.Size + 8]byte
		params [24]byte
		tmp    [4]byte
	)

	b2, _ := blake2b.New512(nil)
	binary.LittleEndian.PutUint32(params[0:4], threads)
	binary.LittleEndian.PutUint32(params[4:8], keyLen)
	binary.LittleEndian.PutUint32(params[8:12], memory)
	binary.LittleEndian.PutUint32(params[12:16], time)
	binary.LittleEndian.PutUint32(params[16:20], uint32(Version))
	binary.LittleEndian.PutUint32(params[20:24], uint32(mode))
	b2.Write(params[:])
	binary.LittleEndian.PutUint32(tmp[:], uint32(len(password)))
	b2.Write(tmp[:])
	b2.Write(password)
	binary.LittleEndian.PutUint32(tmp[:], uint32(len(salt)))
	b2.Write(tmp[:])
	b2.Write(salt)
	binary.LittleEndian.PutUint32(tmp[:], uint32(len(key)))
	b2.Write(tmp[:])
	b2.Write(key)
	binary.LittleEndian.PutUint32(tmp[:], uint32(len(data)))
	b2.Write(tmp[:])
	b2.Write(data)
	b2.Sum(h0[:0])
	return h0
}

// initBlocks writes the first two blocks of each lane of B.
func initBlocks(B []block, h0 *[blake2b.Size + 8]byte, threads uint32) {
	var block0 [1024]byte
	memory := uint32(len(B))
	for lane := uint32(0); lane < threads; lane++ {
		j := lane * (memory / threads)
		binary.LittleEndian.PutUint32(h0[blake2b.Size+4:], lane)

		binary.LittleEndian.PutUint32(h0[blake2b.Size:], 0)
		blake2bHash(block0[:], h0[:])
		for i := range B[j+0] {
			B[j+0][i] = binary.LittleEndian.Uint64(block0[i*8:])
		}

		binary.LittleEndian.PutUint32(h0[blake2b.Size:], 1)
		blake2bHash(block0[:], h0[:])
		for i := range B[j+1] {
			B[j+1][i] = binary.LittleEndian.Uint64(block0[i*8:])
		}
	}
}

// processBlocks makes time passes over B. The first pass writes every block
// but the two initBlocks wrote, each from blocks written before it, so
// nothing B held before is read; later passes XOR into what the pass
// before wrote (version 0x13).
func processBlocks(B []block, time, memory, threads uint32, mode int) {
	lanes := memory / threads
	segments := lanes / syncPoints

	processSegment := func(n, slice, lane uint32, wg *sync.WaitGroup) {
		var addresses, in, zero block
		if mode == argon2i || (mode == argon2id && n == 0 && slice < syncPoints/2) {
			in[0] = uint64(n)
			in[1] = uint64(lane)
			in[2] = uint64(slice)
			in[3] = uint64(memory)
			in[4] = uint64(time)
			in[5] = uint64(mode)
		}

		index := uint32(0)
		if n == 0 && slice == 0 {
			index = 2 // we have already generated the first two blocks
			if mode == argon2i || mode == argon2id {
				in[6]++
				processBlock(&addresses, &in, &zero)
				processBlock(&addresses, &addresses, &zero)
			}
		}

		offset := lane*lanes + slice*segments + index
		var random uint64
		for index < segments {
			prev := offset - 1
			if index == 0 && slice == 0 {
				prev += lanes // last block in lane
			}
			if mode == argon2i || (mode == argon2id && n == 0 && slice < syncPoints/2) {
				if index%blockLength == 0 {
					in[6]++
					processBlock(&addresses, &in, &zero)
					processBlock(&addresses, &addresses, &zero)
				}
				random = addresses[index%blockLength]
			} else {
				random = B[prev][0]
			}
			newOffset := indexAlpha(random, lanes, segments, threads, n, slice, lane, index)
			if n == 0 {
				processBlock(&B[offset], &B[prev], &B[newOffset])
			} else {
				processBlockXOR(&B[offset], &B[prev], &B[newOffset])
			}
			index, offset = index+1, offset+1
		}
		wg.Done()
	}

	for n := uint32(0); n < time; n++ {
		for slice := uint32(0); slice < syncPoints; slice++ {
			var wg sync.WaitGroup
			if threads == 1 {
				// One lane: computed on the calling goroutine, which
				// would only wait for another.
				wg.Add(1)
				processSegment(n, slice, 0, &wg)
				continue
			}
			for lane := uint32(0); lane < threads; lane++ {
				wg.Add(1)
				go processSegment(n, slice, lane, &wg)
			}
			wg.Wait()
		}
	}

}

func extractKey(B []block, memory, threads, keyLen uint32) []byte {
	lanes := memory / threads
	for lane := uint32(0); lane < threads-1; lane++ {
		for i, v := range B[(lane*lanes)+lanes-1] {
			B[memory-1][i] ^= v
		}
	}

	var block [1024]byte
	for i, v := range B[memory-1] {
		binary.LittleEndian.PutUint64(block[i*8:], v)
	}
	key := make([]byte, keyLen)
	blake2bHash(key, block[:])
	return key
}

func indexAlpha(rand uint64, lanes, segments, threads, n, slice, lane, index uint32) uint32 {
	refLane := uint32(rand>>32) % threads
	if n == 0 && slice == 0 {
		refLane = lane
	}
	m, s := 3*segments, ((slice+1)%syncPoints)*segments
	if lane == refLane {
		m += index
	}
	if n == 0 {
		m, s = slice*segments, 0
		if slice == 0 || lane == refLane {
			m += index
		}
	}
	if index == 0 || lane == refLane {
		m--
	}
	return phi(rand, uint64(m), uint64(s), refLane, lanes)
}

func phi(rand, m, s uint64, lane, lanes uint32) uint32 {
	p := rand & 0xFFFFFFFF
	p = (p * p) >> 32
	p = (p * m) >> 32
	return lane*lanes + uint32((s+m-(p+1))%uint64(lanes))
}
