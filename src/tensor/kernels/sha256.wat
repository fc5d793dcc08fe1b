;; sha256.wat: SHA-256 (FIPS 180-4) of four messages at once, one per i32x4 lane (multi-buffer), for the Merkle
;; trees of tensor commitments where the native addon is not loaded (browsers, engines without it). Every lane
;; runs the same rounds on its own message; the messages of one call have the same length, so they have the same
;; number of blocks. Exports, over the module's own memory (sha256-batch.ts copies input in and digests out):
;;   leaves(in, len, chunk, out): out[32 i ..] = SHA-256(0x00 || in[chunk i ..][..chunk]), the last chunk may be shorter
;;   nodes(pairs, count, out):    out[32 i ..] = SHA-256(0x01 || pairs[64 i .. 64 i + 64]); out may be pairs
;; Rotations are written out as (x >>> n) | (x << 32 - n): V8 in Node 20 does not inline wasm calls (math.wat).
;; Memory: K at 0 (64 words), the message schedule W at 256 (64 x v128), the state at 1280 (8 x v128), four
;; padded message slots from 2048 (up to 8 KiB each), input and output from 65536 (sha256-batch.ts's layout).
(module
  (memory (export "memory") 4)
  (data (i32.const 0)
    "\98\2f\8a\42\91\44\37\71\cf\fb\c0\b5\a5\db\b5\e9\5b\c2\56\39\f1\11\f1\59\a4\82\3f\92\d5\5e\1c\ab"
    "\98\aa\07\d8\01\5b\83\12\be\85\31\24\c3\7d\0c\55\74\5d\be\72\fe\b1\de\80\a7\06\dc\9b\74\f1\9b\c1"
    "\c1\69\9b\e4\86\47\be\ef\c6\9d\c1\0f\cc\a1\0c\24\6f\2c\e9\2d\aa\84\74\4a\dc\a9\b0\5c\da\88\f9\76"
    "\52\51\3e\98\6d\c6\31\a8\c8\27\03\b0\c7\7f\59\bf\f3\0b\e0\c6\47\91\a7\d5\51\63\ca\06\67\29\29\14"
    "\85\0a\b7\27\38\21\1b\2e\fc\6d\2c\4d\13\0d\38\53\54\73\0a\65\bb\0a\6a\76\2e\c9\c2\81\85\2c\72\92"
    "\a1\e8\bf\a2\4b\66\1a\a8\70\8b\4b\c2\a3\51\6c\c7\19\e8\92\d1\24\06\99\d6\85\35\0e\f4\70\a0\6a\10"
    "\16\c1\a4\19\08\6c\37\1e\4c\77\48\27\b5\bc\b0\34\b3\0c\1c\39\4a\aa\d8\4e\4f\ca\9c\5b\f3\6f\2e\68"
    "\ee\82\8f\74\6f\63\a5\78\14\78\c8\84\08\02\c7\8c\fa\ff\be\90\eb\6c\50\a4\f7\a3\f9\be\f2\78\71\c6")

  (global $W i32 (i32.const 256))
  (global $STATE i32 (i32.const 1280))
  (global $SLOTS i32 (i32.const 2048))

  ;; The big-endian bytes of a 32-bit word, as a little-endian i32 store writes them.
  (func $bswap (param $x i32) (result i32)
    (i32.or
      (i32.or (i32.shl (local.get $x) (i32.const 24)) (i32.shl (i32.and (local.get $x) (i32.const 0xff00)) (i32.const 8)))
      (i32.or (i32.and (i32.shr_u (local.get $x) (i32.const 8)) (i32.const 0xff00)) (i32.shr_u (local.get $x) (i32.const 24)))))

  ;; Slot `slot` := prefix || src[0..len) || 0x80 || zeros || (len + 1) * 8 as a 64-bit big-endian, `size` bytes in all.
  (func $prepare (param $slot i32) (param $prefix i32) (param $src i32) (param $len i32) (param $size i32)
    (i32.store8 (local.get $slot) (local.get $prefix))
    (memory.copy (i32.add (local.get $slot) (i32.const 1)) (local.get $src) (local.get $len))
    (memory.fill (i32.add (local.get $slot) (i32.add (local.get $len) (i32.const 1))) (i32.const 0)
      (i32.sub (local.get $size) (i32.add (local.get $len) (i32.const 1))))
    (i32.store8 (i32.add (local.get $slot) (i32.add (local.get $len) (i32.const 1))) (i32.const 0x80))
    (i32.store (i32.sub (i32.add (local.get $slot) (local.get $size)) (i32.const 4))
      (call $bswap (i32.shl (i32.add (local.get $len) (i32.const 1)) (i32.const 3)))))

  ;; Bytes of a padded message of len + 1 bytes: whole 64-byte blocks holding it, 0x80 and the 8-byte length.
  (func $padded (param $len i32) (result i32)
    (i32.and (i32.add (local.get $len) (i32.const 73)) (i32.const -64)))

  ;; The four slots (each `size` bytes, `size` / 64 blocks) hashed lane by lane; the state is left at $STATE.
  (func $compress4 (param $size i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $e v128) (local $f v128) (local $g v128) (local $h v128)
    (local $t1 v128) (local $t2 v128) (local $x v128) (local $y v128)
    (local $ab_lo v128) (local $ab_hi v128) (local $cd_lo v128) (local $cd_hi v128)
    (local $block i32) (local $p i32) (local $q i32) (local $t i32) (local $w i32)
    (v128.store offset=0 (global.get $STATE) (i32x4.splat (i32.const 0x6a09e667)))
    (v128.store offset=16 (global.get $STATE) (i32x4.splat (i32.const 0xbb67ae85)))
    (v128.store offset=32 (global.get $STATE) (i32x4.splat (i32.const 0x3c6ef372)))
    (v128.store offset=48 (global.get $STATE) (i32x4.splat (i32.const 0xa54ff53a)))
    (v128.store offset=64 (global.get $STATE) (i32x4.splat (i32.const 0x510e527f)))
    (v128.store offset=80 (global.get $STATE) (i32x4.splat (i32.const 0x9b05688c)))
    (v128.store offset=96 (global.get $STATE) (i32x4.splat (i32.const 0x1f83d9ab)))
    (v128.store offset=112 (global.get $STATE) (i32x4.splat (i32.const 0x5be0cd19)))
    (local.set $block (i32.const 0))
    (loop $blocks
      ;; W[0..16): words 4q..4q+3 of each lane's block, transposed to one vector per word and byte-swapped.
      (local.set $q (i32.const 0))
      (loop $words
        (local.set $p (i32.add (i32.add (global.get $SLOTS) (i32.shl (local.get $block) (i32.const 6))) (i32.shl (local.get $q) (i32.const 4))))
        (local.set $x (v128.load (local.get $p)))
        (local.set $y (v128.load (i32.add (local.get $p) (local.get $size))))
        (local.set $ab_lo (i8x16.shuffle 3 2 1 0 19 18 17 16 7 6 5 4 23 22 21 20 (local.get $x) (local.get $y)))
        (local.set $ab_hi (i8x16.shuffle 11 10 9 8 27 26 25 24 15 14 13 12 31 30 29 28 (local.get $x) (local.get $y)))
        (local.set $x (v128.load (i32.add (local.get $p) (i32.shl (local.get $size) (i32.const 1)))))
        (local.set $y (v128.load (i32.add (local.get $p) (i32.mul (local.get $size) (i32.const 3)))))
        (local.set $cd_lo (i8x16.shuffle 3 2 1 0 19 18 17 16 7 6 5 4 23 22 21 20 (local.get $x) (local.get $y)))
        (local.set $cd_hi (i8x16.shuffle 11 10 9 8 27 26 25 24 15 14 13 12 31 30 29 28 (local.get $x) (local.get $y)))
        (local.set $w (i32.add (global.get $W) (i32.shl (local.get $q) (i32.const 6))))
        (v128.store offset=0 (local.get $w) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab_lo) (local.get $cd_lo)))
        (v128.store offset=16 (local.get $w) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab_lo) (local.get $cd_lo)))
        (v128.store offset=32 (local.get $w) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab_hi) (local.get $cd_hi)))
        (v128.store offset=48 (local.get $w) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab_hi) (local.get $cd_hi)))
        (br_if $words (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 1))) (i32.const 4))))
      ;; W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], t = 16..63.
      (local.set $w (i32.add (global.get $W) (i32.const 256)))
      (loop $schedule
        (local.set $x (v128.load offset=0 (i32.sub (local.get $w) (i32.const 32))))
        (local.set $y (v128.load offset=0 (i32.sub (local.get $w) (i32.const 240))))
        (v128.store (local.get $w)
          (i32x4.add
            (i32x4.add
              (v128.xor (v128.xor (v128.or (i32x4.shr_u (local.get $x) (i32.const 17)) (i32x4.shl (local.get $x) (i32.const 15))) (v128.or (i32x4.shr_u (local.get $x) (i32.const 19)) (i32x4.shl (local.get $x) (i32.const 13)))) (i32x4.shr_u (local.get $x) (i32.const 10)))
              (v128.load (i32.sub (local.get $w) (i32.const 112))))
            (i32x4.add
              (v128.xor (v128.xor (v128.or (i32x4.shr_u (local.get $y) (i32.const 7)) (i32x4.shl (local.get $y) (i32.const 25))) (v128.or (i32x4.shr_u (local.get $y) (i32.const 18)) (i32x4.shl (local.get $y) (i32.const 14)))) (i32x4.shr_u (local.get $y) (i32.const 3)))
              (v128.load (i32.sub (local.get $w) (i32.const 256))))))
        (br_if $schedule (i32.lt_u (local.tee $w (i32.add (local.get $w) (i32.const 16))) (i32.add (global.get $W) (i32.const 1024)))))
      (local.set $a (v128.load offset=0 (global.get $STATE)))
      (local.set $b (v128.load offset=16 (global.get $STATE)))
      (local.set $c (v128.load offset=32 (global.get $STATE)))
      (local.set $d (v128.load offset=48 (global.get $STATE)))
      (local.set $e (v128.load offset=64 (global.get $STATE)))
      (local.set $f (v128.load offset=80 (global.get $STATE)))
      (local.set $g (v128.load offset=96 (global.get $STATE)))
      (local.set $h (v128.load offset=112 (global.get $STATE)))
      (local.set $t (i32.const 0))
      (loop $rounds
        ;; T1 = h + S1(e) + Ch(e, f, g) + K[t] + W[t]; T2 = S0(a) + Maj(a, b, c) (Ch: e picks f or g; Maj: c where a, b differ).
        (local.set $t1
          (i32x4.add
            (i32x4.add (local.get $h)
              (v128.xor (v128.xor (v128.or (i32x4.shr_u (local.get $e) (i32.const 6)) (i32x4.shl (local.get $e) (i32.const 26))) (v128.or (i32x4.shr_u (local.get $e) (i32.const 11)) (i32x4.shl (local.get $e) (i32.const 21)))) (v128.or (i32x4.shr_u (local.get $e) (i32.const 25)) (i32x4.shl (local.get $e) (i32.const 7)))))
            (i32x4.add (v128.bitselect (local.get $f) (local.get $g) (local.get $e))
              (i32x4.add (i32x4.splat (i32.load (i32.shl (local.get $t) (i32.const 2))))
                (v128.load (i32.add (global.get $W) (i32.shl (local.get $t) (i32.const 4))))))))
        (local.set $t2
          (i32x4.add
            (v128.xor (v128.xor (v128.or (i32x4.shr_u (local.get $a) (i32.const 2)) (i32x4.shl (local.get $a) (i32.const 30))) (v128.or (i32x4.shr_u (local.get $a) (i32.const 13)) (i32x4.shl (local.get $a) (i32.const 19)))) (v128.or (i32x4.shr_u (local.get $a) (i32.const 22)) (i32x4.shl (local.get $a) (i32.const 10))))
            (v128.bitselect (local.get $c) (local.get $a) (v128.xor (local.get $a) (local.get $b)))))
        (local.set $h (local.get $g))
        (local.set $g (local.get $f))
        (local.set $f (local.get $e))
        (local.set $e (i32x4.add (local.get $d) (local.get $t1)))
        (local.set $d (local.get $c))
        (local.set $c (local.get $b))
        (local.set $b (local.get $a))
        (local.set $a (i32x4.add (local.get $t1) (local.get $t2)))
        (br_if $rounds (i32.lt_u (local.tee $t (i32.add (local.get $t) (i32.const 1))) (i32.const 64))))
      (v128.store offset=0 (global.get $STATE) (i32x4.add (local.get $a) (v128.load offset=0 (global.get $STATE))))
      (v128.store offset=16 (global.get $STATE) (i32x4.add (local.get $b) (v128.load offset=16 (global.get $STATE))))
      (v128.store offset=32 (global.get $STATE) (i32x4.add (local.get $c) (v128.load offset=32 (global.get $STATE))))
      (v128.store offset=48 (global.get $STATE) (i32x4.add (local.get $d) (v128.load offset=48 (global.get $STATE))))
      (v128.store offset=64 (global.get $STATE) (i32x4.add (local.get $e) (v128.load offset=64 (global.get $STATE))))
      (v128.store offset=80 (global.get $STATE) (i32x4.add (local.get $f) (v128.load offset=80 (global.get $STATE))))
      (v128.store offset=96 (global.get $STATE) (i32x4.add (local.get $g) (v128.load offset=96 (global.get $STATE))))
      (v128.store offset=112 (global.get $STATE) (i32x4.add (local.get $h) (v128.load offset=112 (global.get $STATE))))
      (br_if $blocks (i32.lt_u (local.tee $block (i32.add (local.get $block) (i32.const 1))) (i32.shr_u (local.get $size) (i32.const 6))))))

  ;; Lanes 0..lanes-1 of the state as big-endian digests at out + 32 * lane.
  (func $digests (param $out i32) (param $lanes i32)
    (local $lane i32) (local $i i32)
    (loop $lane_loop
      (local.set $i (i32.const 0))
      (loop $word
        (i32.store
          (i32.add (i32.add (local.get $out) (i32.shl (local.get $lane) (i32.const 5))) (i32.shl (local.get $i) (i32.const 2)))
          (call $bswap (i32.load (i32.add (global.get $STATE) (i32.add (i32.shl (local.get $i) (i32.const 4)) (i32.shl (local.get $lane) (i32.const 2)))))))
        (br_if $word (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 8))))
      (br_if $lane_loop (i32.lt_u (local.tee $lane (i32.add (local.get $lane) (i32.const 1))) (local.get $lanes)))))

  ;; Hashes `count` (1..4) messages prefix || src + stride * k, each `len` bytes, into out + 32 * k (a short group
  ;; repeats its last message in the spare lanes, whose digests are not written).
  (func $group (param $prefix i32) (param $src i32) (param $stride i32) (param $len i32) (param $count i32) (param $out i32)
    (local $size i32) (local $k i32) (local $m i32)
    (local.set $size (call $padded (local.get $len)))
    (loop $lanes
      (local.set $m (select (local.get $k) (i32.sub (local.get $count) (i32.const 1)) (i32.lt_u (local.get $k) (local.get $count))))
      (call $prepare (i32.add (global.get $SLOTS) (i32.mul (local.get $k) (local.get $size))) (local.get $prefix)
        (i32.add (local.get $src) (i32.mul (local.get $m) (local.get $stride))) (local.get $len) (local.get $size))
      (br_if $lanes (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 4))))
    (call $compress4 (local.get $size))
    (call $digests (local.get $out) (local.get $count)))

  (func (export "leaves") (param $in i32) (param $len i32) (param $chunk i32) (param $out i32)
    (local $full i32) (local $i i32) (local $rest i32)
    (local.set $full (i32.div_u (local.get $len) (local.get $chunk)))
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $i) (local.get $full)))
        (call $group (i32.const 0) (i32.add (local.get $in) (i32.mul (local.get $i) (local.get $chunk))) (local.get $chunk) (local.get $chunk)
          (select (i32.sub (local.get $full) (local.get $i)) (i32.const 4) (i32.lt_u (i32.sub (local.get $full) (local.get $i)) (i32.const 4)))
          (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 5))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $groups)))
    (local.set $rest (i32.sub (local.get $len) (i32.mul (local.get $full) (local.get $chunk))))
    (if (local.get $rest)
      (then (call $group (i32.const 0) (i32.add (local.get $in) (i32.mul (local.get $full) (local.get $chunk))) (i32.const 0) (local.get $rest) (i32.const 1)
        (i32.add (local.get $out) (i32.shl (local.get $full) (i32.const 5)))))))

  (func (export "nodes") (param $pairs i32) (param $count i32) (param $out i32)
    (local $i i32)
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (call $group (i32.const 1) (i32.add (local.get $pairs) (i32.shl (local.get $i) (i32.const 6))) (i32.const 64) (i32.const 64)
          (select (i32.sub (local.get $count) (local.get $i)) (i32.const 4) (i32.lt_u (i32.sub (local.get $count) (local.get $i)) (i32.const 4)))
          (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 5))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $groups)))))
