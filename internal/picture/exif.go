package picture

import (
	"bytes"
	"encoding/binary"
)

// orientation returns the EXIF Orientation (1–8) of a JPEG file, or 1 when
// it has none or its EXIF data is malformed: a bad tag never makes a
// picture unusable, it only leaves it as stored.
//
// The input is untrusted, so this reads no further than it must (the
// segments before the first scan, then IFD0 of the first Exif APP1
// segment) and checks every length and offset against the bytes it has.
func orientation(jpg []byte) int {
	tiff := exifTIFF(jpg)
	if tiff == nil {
		return 1
	}
	return tiffOrientation(tiff)
}

const (
	markerSOI  = 0xD8 // start of image
	markerEOI  = 0xD9 // end of image
	markerSOS  = 0xDA // start of scan: metadata comes before it
	markerAPP1 = 0xE1 // Exif (and XMP) lives here
	markerTEM  = 0x01
	markerRST0 = 0xD0
	markerRST7 = 0xD7
)

var exifHeader = []byte("Exif\x00\x00")

// exifTIFF returns the TIFF structure inside the first Exif APP1 segment
// of a JPEG file, or nil.
func exifTIFF(b []byte) []byte {
	if len(b) < 2 || b[0] != 0xFF || b[1] != markerSOI {
		return nil
	}
	i := 2
	for i+2 <= len(b) {
		if b[i] != 0xFF {
			return nil // not a marker where one must be
		}
		marker := b[i+1]
		switch {
		case marker == 0xFF: // fill byte before a marker
			i++
			continue
		case marker == markerSOI || marker == markerTEM || (marker >= markerRST0 && marker <= markerRST7):
			i += 2 // markers without a length
			continue
		case marker == markerSOS || marker == markerEOI:
			return nil
		}
		if i+4 > len(b) {
			return nil
		}
		// The length counts itself (2 bytes) and the payload.
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || n > len(b)-i-2 {
			return nil
		}
		seg := b[i+4 : i+2+n]
		if marker == markerAPP1 && bytes.HasPrefix(seg, exifHeader) {
			return seg[len(exifHeader):]
		}
		i += 2 + n
	}
	return nil
}

const (
	tagOrientation = 0x0112
	typeShort      = 3
	ifdEntrySize   = 12
)

// tiffOrientation reads the Orientation tag of IFD0 of a TIFF structure
// (TIFF 6.0 §2: header, then directories of 12-byte entries).
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	if order.Uint16(t[2:]) != 42 {
		return 1
	}
	// Offsets are uint32 from the start of the TIFF header; compare in
	// uint64 so no platform can overflow.
	ifd := uint64(order.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > uint64(len(t)) {
		return 1
	}
	count := uint64(order.Uint16(t[ifd:]))
	entries := t[ifd+2:]
	if count*ifdEntrySize > uint64(len(entries)) {
		return 1 // a directory that runs off the end is not trusted at all
	}
	for i := range count {
		e := entries[i*ifdEntrySize : (i+1)*ifdEntrySize]
		if order.Uint16(e) != tagOrientation {
			continue
		}
		// One SHORT fits in the value field itself, left-justified.
		if order.Uint16(e[2:]) != typeShort || order.Uint32(e[4:]) != 1 {
			return 1
		}
		if v := order.Uint16(e[8:]); v >= 1 && v <= 8 {
			return int(v)
		}
		return 1
	}
	return 1
}
