// SRTP's ciphers and message authentication on OpenSSL's EVP interfaces, in place of the crypto
// libsrtp2 was built with. Debian builds libsrtp2 against NSS, which sets up a PKCS#11 context for
// every packet's keystream and HMAC: 3.4 % of an endpoint's CPU in a 640x480 call (perf), about a
// sixth of everything it spends beyond the codecs. libsrtp2's public srtp_replace_cipher_type and
// srtp_replace_auth_type (cipher.h, auth.h) swap these in; libsrtp keeps the packet formats, key
// derivation, replay windows and rollover counters. libsrtp runs its self-test on each type (the
// vectors below) before accepting it, and keeps its own implementation if that fails.
//
// - AES-128 counter mode (RFC 3711 §4.1.1): counter = (salt || 0x0000) XOR the IV libsrtp passes,
//   keystream by AES-CTR; it also drives libsrtp's key derivation (§4.3.3).
// - AES-128-GCM (RFC 7714 §8-9): libsrtp computes the 12-byte IV (salt included) and the AAD;
//   encryption leaves the tag to get_tag, decryption takes it from the end of the buffer.
// - HMAC-SHA1 (RFC 3711 §4.2.1, RFC 2104): the tag is the first tag_len bytes of the digest.
//
// Each cipher or MAC instance is used by one SRTPSession, i.e. one thread at a time.
import COpenSSL
import CSRTP

#if canImport(Glibc)
import Glibc
#endif

enum SRTPOpenSSLCrypto {
    /// Replaces libsrtp's AES-ICM-128, AES-GCM-128 and HMAC-SHA1 with these. Call once, after
    /// `srtp_init()`. Returns which replacements libsrtp accepted (it self-tests each first).
    static func install() -> (cipherCM: Bool, cipherGCM: Bool, hmac: Bool) {
        (srtp_replace_cipher_type(icmType, srtp_cipher_type_id_t(SRTP_AES_ICM_128)) == srtp_err_status_ok,
         srtp_replace_cipher_type(gcmType, srtp_cipher_type_id_t(SRTP_AES_GCM_128)) == srtp_err_status_ok,
         srtp_replace_auth_type(hmacType, srtp_auth_type_id_t(SRTP_HMAC_SHA1)) == srtp_err_status_ok)
    }
}

// MARK: - Shared helpers

/// A C string or byte table that lives as long as the process (libsrtp keeps the pointers).
private func permanent(_ bytes: [UInt8]) -> UnsafeMutablePointer<UInt8> {
    let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes.count))
    pointer.initialize(from: bytes, count: bytes.count)
    return pointer
}

private func permanentCString(_ text: String) -> UnsafePointer<CChar> {
    UnsafePointer(strdup(text)!)
}

private func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

/// What a cipher instance keeps besides its EVP_CIPHER_CTX.
private protocol CipherState {
    var context: OpaquePointer { get }  // EVP_CIPHER_CTX
}

/// The srtp_cipher_t that alloc hands to libsrtp, with `state` behind it.
private func makeCipher<State: CipherState>(_ type: UnsafeMutablePointer<srtp_cipher_type_t>, state: State,
                                            keyLength: Int32, algorithm: Int32) -> UnsafeMutablePointer<srtp_cipher_t> {
    let statePointer = UnsafeMutablePointer<State>.allocate(capacity: 1)
    statePointer.initialize(to: state)
    let cipher = UnsafeMutablePointer<srtp_cipher_t>.allocate(capacity: 1)
    cipher.initialize(to: srtp_cipher_t(type: UnsafePointer(type), state: UnsafeMutableRawPointer(statePointer),
                                        key_len: keyLength, algorithm: algorithm))
    return cipher
}

/// Frees what `makeCipher` made: the EVP context (which clears its key schedule), then the state
/// (zeroed: the counter-mode salt is key material) and the srtp_cipher_t.
private func freeCipher<State: CipherState>(_ cipher: UnsafeMutablePointer<srtp_cipher_t>?, _: State.Type) -> srtp_err_status_t {
    guard let cipher else { return srtp_err_status_bad_param }
    if let state = cipher.pointee.state?.assumingMemoryBound(to: State.self) {
        EVP_CIPHER_CTX_free(state.pointee.context)
        state.deinitialize(count: 1)
        UnsafeMutableRawPointer(state).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<State>.size)
        state.deallocate()
    }
    cipher.deinitialize(count: 1)
    cipher.deallocate()
    return srtp_err_status_ok
}

// MARK: - AES-128 counter mode (RFC 3711 §4.1.1)

private struct CounterModeState: CipherState {
    var context: OpaquePointer  // EVP_CIPHER_CTX
    /// salt || 0x0000, as two words read in memory order (XOR does not care about byte order).
    var offset: (UInt64, UInt64)
}

private let counterModeKeyLength: Int32 = 16
private let saltedCounterModeKeyLength: Int32 = 30  // SRTP_AES_ICM_128_KEY_LEN_WSALT

private let icmAlloc: srtp_cipher_alloc_func_t = { out, keyLength, _ in
    guard let out, keyLength == saltedCounterModeKeyLength else { return srtp_err_status_bad_param }
    guard let context = EVP_CIPHER_CTX_new() else { return srtp_err_status_alloc_fail }
    out.pointee = makeCipher(icmType, state: CounterModeState(context: context, offset: (0, 0)),
                             keyLength: keyLength, algorithm: Int32(SRTP_AES_ICM_128))
    return srtp_err_status_ok
}

private let icmDealloc: srtp_cipher_dealloc_func_t = { freeCipher($0, CounterModeState.self) }

/// `key` is the 16-byte key followed by the 14-byte salt.
private let icmInit: srtp_cipher_init_func_t = { state, key in
    guard let state = state?.assumingMemoryBound(to: CounterModeState.self), let key else {
        return srtp_err_status_bad_param
    }
    var offset: (UInt64, UInt64) = (0, 0)
    withUnsafeMutableBytes(of: &offset) { $0.baseAddress!.copyMemory(from: key + Int(counterModeKeyLength), byteCount: 14) }
    state.pointee.offset = offset
    guard EVP_EncryptInit_ex(state.pointee.context, EVP_aes_128_ctr(), nil, key, nil) == 1 else {
        return srtp_err_status_init_fail
    }
    return srtp_err_status_ok
}

private let icmSetIV: srtp_cipher_set_iv_func_t = { state, iv, _ in
    guard let state = state?.assumingMemoryBound(to: CounterModeState.self), let iv else {
        return srtp_err_status_bad_param
    }
    let raw = UnsafeRawPointer(iv)
    var counter = (state.pointee.offset.0 ^ raw.loadUnaligned(as: UInt64.self),
                   state.pointee.offset.1 ^ raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    let status = withUnsafeBytes(of: &counter) { bytes in
        EVP_EncryptInit_ex(state.pointee.context, nil, nil, nil, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }
    return status == 1 ? srtp_err_status_ok : srtp_err_status_cipher_fail
}

/// Encryption and decryption are the same XOR with the keystream, in place, continuing the
/// keystream until the next set_iv.
private let icmCrypt: srtp_cipher_encrypt_func_t = { state, buffer, count in
    guard let state = state?.assumingMemoryBound(to: CounterModeState.self), let buffer, let count,
          count.pointee <= UInt32(Int32.max) else { return srtp_err_status_bad_param }
    var written: Int32 = 0
    guard EVP_EncryptUpdate(state.pointee.context, buffer, &written, buffer, Int32(count.pointee)) == 1 else {
        return srtp_err_status_cipher_fail
    }
    return srtp_err_status_ok
}

/// RFC 3711 Appendix B.2: the first two keystream blocks for a zero IV.
private nonisolated(unsafe) let icmTestCase: UnsafeMutablePointer<srtp_cipher_test_case_t> = {
    let key = hex("2b7e151628aed2a6abf7158809cf4f3c") + hex("f0f1f2f3f4f5f6f7f8f9fafbfcfd")
    let keystream = hex("e03ead0935c95e80e166b16dd92b4eb4d23513162b02d0f72a43a2fe4a5f97ab")
    let test = UnsafeMutablePointer<srtp_cipher_test_case_t>.allocate(capacity: 1)
    test.initialize(to: srtp_cipher_test_case_t(
        key_length_octets: saltedCounterModeKeyLength, key: permanent(key), idx: permanent([UInt8](repeating: 0, count: 16)),
        plaintext_length_octets: 32, plaintext: permanent([UInt8](repeating: 0, count: 32)),
        ciphertext_length_octets: 32, ciphertext: permanent(keystream),
        aad_length_octets: 0, aad: nil, tag_length_octets: 0, next_test_case: nil))
    return test
}()

private nonisolated(unsafe) let icmType: UnsafeMutablePointer<srtp_cipher_type_t> = {
    let type = UnsafeMutablePointer<srtp_cipher_type_t>.allocate(capacity: 1)
    type.initialize(to: srtp_cipher_type_t(
        alloc: icmAlloc, dealloc: icmDealloc, init: icmInit, set_aad: nil, encrypt: icmCrypt, decrypt: icmCrypt,
        set_iv: icmSetIV, get_tag: nil, description: permanentCString("AES-128 counter mode (OpenSSL)"),
        test_data: UnsafePointer(icmTestCase), id: srtp_cipher_type_id_t(SRTP_AES_ICM_128)))
    return type
}()

// MARK: - AES-128-GCM (RFC 7714)

private struct GCMState: CipherState {
    var context: OpaquePointer  // EVP_CIPHER_CTX
    var tagLength: Int32
}

private let saltedGCMKeyLength: Int32 = 28  // SRTP_AES_GCM_128_KEY_LEN_WSALT: 16-byte key, 12-byte salt

private let gcmAlloc: srtp_cipher_alloc_func_t = { out, keyLength, tagLength in
    guard let out, keyLength == saltedGCMKeyLength, tagLength == 8 || tagLength == 16 else {
        return srtp_err_status_bad_param
    }
    guard let context = EVP_CIPHER_CTX_new() else { return srtp_err_status_alloc_fail }
    out.pointee = makeCipher(gcmType, state: GCMState(context: context, tagLength: tagLength),
                             keyLength: keyLength, algorithm: Int32(SRTP_AES_GCM_128))
    return srtp_err_status_ok
}

private let gcmDealloc: srtp_cipher_dealloc_func_t = { freeCipher($0, GCMState.self) }

/// `key` is the 16-byte key followed by the salt, which libsrtp itself folds into each IV.
private let gcmInit: srtp_cipher_init_func_t = { state, key in
    guard let state = state?.assumingMemoryBound(to: GCMState.self), let key else { return srtp_err_status_bad_param }
    guard EVP_CIPHER_CTX_reset(state.pointee.context) == 1,
          EVP_CipherInit_ex(state.pointee.context, EVP_aes_128_gcm(), nil, key, nil, 1) == 1 else {
        return srtp_err_status_init_fail
    }
    return srtp_err_status_ok
}

/// Starts one packet: the 12-byte IV, and the direction (the key stays).
private let gcmSetIV: srtp_cipher_set_iv_func_t = { state, iv, direction in
    guard let state = state?.assumingMemoryBound(to: GCMState.self), let iv else { return srtp_err_status_bad_param }
    let encrypt: Int32 = direction == srtp_direction_decrypt ? 0 : 1
    return EVP_CipherInit_ex(state.pointee.context, nil, nil, nil, iv, encrypt) == 1
        ? srtp_err_status_ok : srtp_err_status_cipher_fail
}

private let gcmSetAAD: srtp_cipher_set_aad_func_t = { state, aad, count in
    guard let state = state?.assumingMemoryBound(to: GCMState.self), count <= UInt32(Int32.max) else {
        return srtp_err_status_bad_param
    }
    guard count > 0 else { return srtp_err_status_ok }
    var written: Int32 = 0
    return EVP_CipherUpdate(state.pointee.context, nil, &written, aad, Int32(count)) == 1
        ? srtp_err_status_ok : srtp_err_status_cipher_fail
}

private let gcmEncrypt: srtp_cipher_encrypt_func_t = { state, buffer, count in
    guard let state = state?.assumingMemoryBound(to: GCMState.self), let buffer, let count,
          count.pointee <= UInt32(Int32.max) else { return srtp_err_status_bad_param }
    var written: Int32 = 0
    guard count.pointee == 0
            || EVP_CipherUpdate(state.pointee.context, buffer, &written, buffer, Int32(count.pointee)) == 1 else {
        return srtp_err_status_cipher_fail
    }
    return srtp_err_status_ok
}

/// The buffer holds ciphertext then the tag; on success `count` becomes the plaintext's length.
private let gcmDecrypt: srtp_cipher_encrypt_func_t = { state, buffer, count in
    guard let state = state?.assumingMemoryBound(to: GCMState.self), let buffer, let count,
          count.pointee <= UInt32(Int32.max) else { return srtp_err_status_bad_param }
    let tagLength = state.pointee.tagLength
    guard Int32(count.pointee) >= tagLength else { return srtp_err_status_cipher_fail }
    let payload = Int32(count.pointee) - tagLength
    var written: Int32 = 0
    guard EVP_CIPHER_CTX_ctrl(state.pointee.context, EVP_CTRL_AEAD_SET_TAG, tagLength, buffer + Int(payload)) == 1,
          payload == 0 || EVP_CipherUpdate(state.pointee.context, buffer, &written, buffer, payload) == 1 else {
        return srtp_err_status_cipher_fail
    }
    guard EVP_CipherFinal_ex(state.pointee.context, buffer + Int(payload), &written) == 1 else {
        return srtp_err_status_auth_fail
    }
    count.pointee = UInt32(payload)
    return srtp_err_status_ok
}

private let gcmGetTag: srtp_cipher_get_tag_func_t = { state, tag, length in
    guard let state = state?.assumingMemoryBound(to: GCMState.self), let tag, let length else {
        return srtp_err_status_bad_param
    }
    var written: Int32 = 0
    guard EVP_CipherFinal_ex(state.pointee.context, tag, &written) == 1,
          EVP_CIPHER_CTX_ctrl(state.pointee.context, EVP_CTRL_AEAD_GET_TAG, state.pointee.tagLength, tag) == 1 else {
        return srtp_err_status_algo_fail
    }
    length.pointee = UInt32(state.pointee.tagLength)
    return srtp_err_status_ok
}

/// The GCM specification's test case 4 (McGrew and Viega; also NIST's GCM examples), with a salt
/// appended to the key as libsrtp hands it over.
private nonisolated(unsafe) let gcmTestCase: UnsafeMutablePointer<srtp_cipher_test_case_t> = {
    let key = hex("feffe9928665731c6d6a8f9467308308") + hex("cafebabefacedbaddecaf888")
    let plaintext = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                        + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
    let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    let sealed = hex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
                     + "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
                     + "5bc94fbc3221a5db94fae95ae7121a47")
    let test = UnsafeMutablePointer<srtp_cipher_test_case_t>.allocate(capacity: 1)
    test.initialize(to: srtp_cipher_test_case_t(
        key_length_octets: saltedGCMKeyLength, key: permanent(key), idx: permanent(hex("cafebabefacedbaddecaf888")),
        plaintext_length_octets: UInt32(plaintext.count), plaintext: permanent(plaintext),
        ciphertext_length_octets: UInt32(sealed.count), ciphertext: permanent(sealed),
        aad_length_octets: Int32(aad.count), aad: permanent(aad), tag_length_octets: 16, next_test_case: nil))
    return test
}()

private nonisolated(unsafe) let gcmType: UnsafeMutablePointer<srtp_cipher_type_t> = {
    let type = UnsafeMutablePointer<srtp_cipher_type_t>.allocate(capacity: 1)
    type.initialize(to: srtp_cipher_type_t(
        alloc: gcmAlloc, dealloc: gcmDealloc, init: gcmInit, set_aad: gcmSetAAD, encrypt: gcmEncrypt,
        decrypt: gcmDecrypt, set_iv: gcmSetIV, get_tag: gcmGetTag, description: permanentCString("AES-128-GCM (OpenSSL)"),
        test_data: UnsafePointer(gcmTestCase), id: srtp_cipher_type_id_t(SRTP_AES_GCM_128)))
    return type
}()

// MARK: - HMAC-SHA1 (RFC 3711 §4.2.1)

private struct HMACState {
    var context: OpaquePointer  // EVP_MAC_CTX
}

private nonisolated(unsafe) let hmacAlgorithm: OpaquePointer? = EVP_MAC_fetch(nil, "HMAC", nil)
private nonisolated(unsafe) let digestParameterName = permanentCString("digest")
private nonisolated(unsafe) let sha1Name = UnsafeMutablePointer(mutating: permanentCString("SHA1"))

private let hmacAlloc: srtp_auth_alloc_func = { out, keyLength, tagLength in
    guard let out, (1...64).contains(keyLength), (1...20).contains(tagLength) else { return srtp_err_status_bad_param }
    guard let hmacAlgorithm, let context = EVP_MAC_CTX_new(hmacAlgorithm) else { return srtp_err_status_alloc_fail }
    let state = UnsafeMutablePointer<HMACState>.allocate(capacity: 1)
    state.initialize(to: HMACState(context: context))
    let auth = UnsafeMutablePointer<srtp_auth_t>.allocate(capacity: 1)
    auth.initialize(to: srtp_auth_t(type: UnsafePointer(hmacType), state: UnsafeMutableRawPointer(state),
                                    out_len: tagLength, key_len: keyLength, prefix_len: 0))
    out.pointee = auth
    return srtp_err_status_ok
}

private let hmacDealloc: srtp_auth_dealloc_func = { auth in
    guard let auth else { return srtp_err_status_bad_param }
    if let state = auth.pointee.state?.assumingMemoryBound(to: HMACState.self) {
        EVP_MAC_CTX_free(state.pointee.context)  // clears the key
        state.deinitialize(count: 1)
        state.deallocate()
    }
    auth.deinitialize(count: 1)
    auth.deallocate()
    return srtp_err_status_ok
}

private let hmacInit: srtp_auth_init_func = { state, key, keyLength in
    guard let state = state?.assumingMemoryBound(to: HMACState.self), let key, keyLength > 0 else {
        return srtp_err_status_bad_param
    }
    var parameters = [OSSL_PARAM_construct_utf8_string(digestParameterName, sha1Name, 0), OSSL_PARAM_construct_end()]
    return EVP_MAC_init(state.pointee.context, key, Int(keyLength), &parameters) == 1
        ? srtp_err_status_ok : srtp_err_status_auth_fail
}

/// A new message under the same key.
private let hmacStart: srtp_auth_start_func = { state in
    guard let state = state?.assumingMemoryBound(to: HMACState.self) else { return srtp_err_status_bad_param }
    return EVP_MAC_init(state.pointee.context, nil, 0, nil) == 1 ? srtp_err_status_ok : srtp_err_status_auth_fail
}

private let hmacUpdate: srtp_auth_update_func = { state, buffer, count in
    guard let state = state?.assumingMemoryBound(to: HMACState.self), count >= 0 else { return srtp_err_status_bad_param }
    guard count > 0 else { return srtp_err_status_ok }
    return EVP_MAC_update(state.pointee.context, buffer, Int(count)) == 1 ? srtp_err_status_ok : srtp_err_status_auth_fail
}

private let hmacCompute: srtp_auth_compute_func = { state, buffer, count, tagLength, tag in
    guard let state = state?.assumingMemoryBound(to: HMACState.self), let tag, count >= 0,
          (0...20).contains(tagLength) else { return srtp_err_status_bad_param }
    var digest: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes for SHA-1's 20
    var length = 0
    let status = withUnsafeMutableBytes(of: &digest) { bytes -> Int32 in
        let out = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard count == 0 || EVP_MAC_update(state.pointee.context, buffer, Int(count)) == 1,
              EVP_MAC_final(state.pointee.context, out, &length, 20) == 1, length == 20 else { return 0 }
        tag.update(from: out, count: Int(tagLength))
        return 1
    }
    digest = (0, 0, 0)
    return status == 1 ? srtp_err_status_ok : srtp_err_status_auth_fail
}

/// RFC 2202 §3 test case 1 (HMAC-SHA1), cut to SRTP's 80-bit tag.
private nonisolated(unsafe) let hmacTestCase: UnsafeMutablePointer<srtp_auth_test_case_t> = {
    let test = UnsafeMutablePointer<srtp_auth_test_case_t>.allocate(capacity: 1)
    test.initialize(to: srtp_auth_test_case_t(
        key_length_octets: 20, key: permanent([UInt8](repeating: 0x0b, count: 20)),
        data_length_octets: 8, data: permanent(Array("Hi There".utf8)),
        tag_length_octets: 10, tag: permanent(hex("b617318655057264e28b")), next_test_case: nil))
    return test
}()

private nonisolated(unsafe) let hmacType: UnsafeMutablePointer<srtp_auth_type_t> = {
    let type = UnsafeMutablePointer<srtp_auth_type_t>.allocate(capacity: 1)
    type.initialize(to: srtp_auth_type_t(
        alloc: hmacAlloc, dealloc: hmacDealloc, init: hmacInit, compute: hmacCompute, update: hmacUpdate,
        start: hmacStart, description: permanentCString("HMAC-SHA1 (OpenSSL)"),
        test_data: UnsafePointer(hmacTestCase), id: srtp_auth_type_id_t(SRTP_HMAC_SHA1)))
    return type
}()
