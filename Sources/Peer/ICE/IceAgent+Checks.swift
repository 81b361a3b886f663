// Connectivity checks, RFC 8445 §7: sending checks (§7.2.4, USERNAME "rufrag:lufrag",
// PRIORITY, ICE-CONTROLLING/CONTROLLED, USE-CANDIDATE; MESSAGE-INTEGRITY with the remote pwd and
// FINGERPRINT), processing requests (§7.3: 400/401 on missing or bad credentials, 487 role
// conflicts §7.3.1.1, peer-reflexive candidates §7.3.1.3, triggered checks §7.3.1.4, nomination
// §7.3.1.5), responses (§7.2.5: symmetric addresses, integrity, 487 → switch role), regular
// nomination (§8.1.1), consent freshness (RFC 7675) and the RFC 7983 demultiplexing of data.

extension IceAgent {
    // MARK: Inbound datagrams

    /// A datagram arrived on driver socket `socket`. Returns application data (DTLS, SRTP/SRTCP)
    /// from a validated remote address; STUN and TURN are consumed here.
    public func receive(_ bytes: [UInt8], from: STUNAddress, socket: Int, now: Double) -> [UInt8]? {
        guard state != .closed else { return nil }
        if let t = turns.firstIndex(where: { $0.socket == socket && $0.client.server == from }) {
            let inner = turns[t].client.receive(bytes, now: now)
            drainTurn(t, now: now)
            guard let (peer, data) = inner, let li = turns[t].relayLocal else { return nil }
            return receive(data, from: peer, local: li, now: now)
        }
        guard let li = hostLocal[socket] else { return nil }
        return receive(bytes, from: from, local: li, now: now)
    }

    func receive(_ bytes: [UInt8], from: STUNAddress, local li: Int, now: Double) -> [UInt8]? {
        guard let first = bytes.first else { return nil }
        switch PacketKind.classify(firstByte: first) {
        case .stun:
            handleSTUN(bytes, from: from, local: li, now: now)
            return nil
        case .dtls, .rtpOrRtcp:
            guard validRemotes.contains(from) else { return nil }
            noteInbound(from: from, now: now)
            return bytes
        case .turnChannelData, .unknown:
            return nil
        }
    }

    func noteInbound(from: STUNAddress, now: Double) {
        guard let path = selected, path.remote == from else { return }
        lastInbound = now
        if state == .disconnected { setState(.connected) }
    }

    func handleSTUN(_ bytes: [UInt8], from: STUNAddress, local li: Int, now: Double) {
        guard let message = try? STUNMessage.decode(bytes) else { return }
        // §7.2.2/§7.3: FINGERPRINT, when present, must match (it tells STUN from other protocols).
        if message.fingerprint != nil, !message.validateFingerprint() { return }
        switch message.messageClass {
        case .request: handleRequest(message, from: from, local: li, now: now)
        case .successResponse, .errorResponse: handleResponse(message, from: from, now: now)
        case .indication: noteInbound(from: from, now: now)  // §11 keepalive
        }
        evaluate(now: now)
    }

    // MARK: Requests (§7.3)

    func respondError(_ request: STUNMessage, code: Int, key: [UInt8]?, from li: Int, to: STUNAddress) {
        var r = STUNMessage(.errorResponse, request.method, transactionID: request.transactionID)
        r.append(.errorCode(STUNErrorCode(code: code, reason: STUNErrorCode.defaultReason(code))))
        emit(r.encode(integrityKey: key, fingerprint: true), from: li, to: to)
    }

    func handleRequest(_ request: STUNMessage, from: STUNAddress, local li: Int, now: Double) {
        guard locals[li].pairable else { return }  // relay-only: direct requests are not ours to answer
        guard request.method == .binding else {
            respondError(request, code: 400, key: nil, from: li, to: from)
            return
        }
        // RFC 8489 §9.1.3: no USERNAME or MESSAGE-INTEGRITY → 400; unknown user or bad MAC → 401.
        guard let username = request.username, request.hasIntegrity else {
            respondError(request, code: 400, key: nil, from: li, to: from)
            event(.log("400 to \(from): request without USERNAME or MESSAGE-INTEGRITY"))
            return
        }
        let ours = username.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        let credentials: IceCredentials
        if ours == localCredentials.ufrag {
            credentials = localCredentials
        } else if let previous = previousLocal, ours == previous.ufrag {
            credentials = previous
        } else {
            respondError(request, code: 401, key: nil, from: li, to: from)
            event(.log("401 to \(from): unknown ufrag"))
            return
        }
        let key = STUNMessage.shortTermKey(password: credentials.pwd)
        guard request.validateIntegrity(key: key) else {
            respondError(request, code: 401, key: nil, from: li, to: from)
            event(.log("401 to \(from): bad MESSAGE-INTEGRITY"))
            return
        }
        if !request.unknownComprehensionRequired.isEmpty {
            var r = STUNMessage(.errorResponse, .binding, transactionID: request.transactionID)
            r.append(.errorCode(STUNErrorCode(code: 420, reason: STUNErrorCode.defaultReason(420))))
            r.append(.unknownAttributes(request.unknownComprehensionRequired))
            emit(r.encode(integrityKey: key, fingerprint: true), from: li, to: from)
            return
        }
        // §7.3.1.1 role conflict: the larger tie-breaker keeps (or takes) the controlling role.
        if role == .controlling, let theirs = request.iceControlling {
            if tieBreaker >= theirs {
                respondError(request, code: 487, key: key, from: li, to: from)
                return
            }
            switchRole(to: .controlled)
        } else if role == .controlled, let theirs = request.iceControlled {
            if tieBreaker >= theirs {
                switchRole(to: .controlling)
            } else {
                respondError(request, code: 487, key: key, from: li, to: from)
                return
            }
        }
        var response = STUNMessage(.successResponse, .binding, transactionID: request.transactionID)
        response.append(.xorMappedAddress(from))
        emit(response.encode(integrityKey: key, fingerprint: true), from: li, to: from)
        validRemotes.insert(from)
        noteInbound(from: from, now: now)
        guard credentials == localCredentials, state != .failed else { return }  // old generation: answer only

        // §7.3.1.3: an unknown source is a peer-reflexive remote candidate.
        let ri: Int
        if let known = remotes.firstIndex(where: { $0.address == from }) {
            ri = known
        } else {
            remotes.append(RemoteCandidate(address: from, priority: request.priority ?? 0, type: "prflx"))
            ri = remotes.count - 1
        }
        guard let pi = makePair(local: li, remote: ri, now: now) else { return }
        let nominated = request.useCandidate && role == .controlled
        if nominated { pairs[pi].remoteNominated = true }
        switch pairs[pi].state {
        case .succeeded:
            if nominated { nominate(pi, now: now) }
        case .inProgress:
            break  // the outstanding check's success completes it (§7.3.1.4 allows not restarting)
        case .waiting, .failed:
            // §7.3.1.4 triggered check
            pairs[pi].state = .waiting
            if !triggered.contains(pi) { triggered.append(pi) }
        }
    }

    // MARK: Outbound checks (§7.2.4)

    func startCheck(_ pi: Int, now: Double) {
        guard let rc = remoteCredentials else { return }
        let li = pairs[pi].local
        let useCandidate = role == .controlling && pairs[pi].nominateNext
        pairs[pi].nominateNext = false
        var m = STUNMessage(.request, .binding)
        m.append(.username("\(rc.ufrag):\(localCredentials.ufrag)"))
        // §7.2.4.1: PRIORITY is what a peer-reflexive candidate from this check would get.
        m.append(.priority(IcePriority.candidate(kind: .prflx, localPreference: locals[li].localPreference)))
        m.append(role == .controlling ? .iceControlling(tieBreaker: tieBreaker) : .iceControlled(tieBreaker: tieBreaker))
        if useCandidate { m.append(.useCandidate) }
        let key = STUNMessage.shortTermKey(password: rc.pwd)
        let bytes = m.encode(integrityKey: key, fingerprint: true)
        let remote = remotes[pairs[pi].remote].address
        pairs[pi].state = .inProgress
        transactions[m.transactionID] = CheckTransaction(
            kind: .check(pair: pi, useCandidate: useCandidate, generation: generation, controlling: role == .controlling),
            bytes: bytes, local: li, remote: remote, key: key, nextSend: now + config.checkRTO, rto: config.checkRTO)
        emit(bytes, from: li, to: remote)
    }

    func sendConsentCheck(now: Double) {
        guard let path = selected else { return }
        var m = STUNMessage(.request, .binding)
        m.append(.username("\(path.remoteCredentials.ufrag):\(path.localCredentials.ufrag)"))
        m.append(.priority(IcePriority.candidate(kind: .prflx, localPreference: path.local.localPreference)))
        m.append(role == .controlling ? .iceControlling(tieBreaker: tieBreaker) : .iceControlled(tieBreaker: tieBreaker))
        let key = STUNMessage.shortTermKey(password: path.remoteCredentials.pwd)
        let bytes = m.encode(integrityKey: key, fingerprint: true)
        // RFC 7675 §5.1: a consent check is a binding request on the selected pair; the local
        // candidate is carried inside the transaction (index -1 = use `selected`).
        transactions[m.transactionID] = CheckTransaction(kind: .consent, bytes: bytes, local: -1, remote: path.remote,
                                                        key: key, nextSend: now + 0.5, rto: 0.5)
        emit(bytes, from: path.local, to: path.remote)
    }

    // MARK: Responses (§7.2.5)

    func handleResponse(_ response: STUNMessage, from: STUNAddress, now: Double) {
        guard let tx = transactions[response.transactionID] else { return }
        if case .serverReflexive(let socket) = tx.kind {
            guard from == tx.remote else { return }
            transactions[response.transactionID] = nil
            if response.messageClass == .successResponse, let mapped = response.xorMappedAddress,
               mapped != sockets[socket] {
                let base = sockets[socket]
                let pref = localPreference(base, index: socket)
                addLocal(LocalCandidate(kind: .srflx, address: mapped, base: base, socket: socket, turn: nil,
                                        priority: IcePriority.candidate(kind: .srflx, localPreference: pref),
                                        localPreference: pref, foundation: foundation(.srflx, base, tx.remote),
                                        related: base, pairable: false, advertised: true), now: now)
            }
            pendingGather -= 1
            checkGatheringDone()
            return
        }
        // §7.2.5.2.1: the response must come from where the request went; integrity with the
        // remote pwd is checked before anything in the response is believed.
        guard from == tx.remote, response.validateIntegrity(key: tx.key) else {
            event(.log("dropping response from \(from): wrong source or integrity"))
            return
        }
        transactions[response.transactionID] = nil
        switch tx.kind {
        case .serverReflexive:
            return
        case .consent:
            guard response.messageClass == .successResponse, selected?.remote == from else { return }
            consentExpires = now + config.consentTimeout
            lastInbound = now
            if state == .disconnected { setState(.connected) }
        case .check(let pi, let useCandidate, let gen, let controlling):
            guard gen == generation, pi < pairs.count else { return }
            if response.messageClass == .errorResponse {
                if response.errorCode?.code == 487 {
                    // §7.2.5.1: switch to the role opposite of the one in the request and retry.
                    switchRole(to: controlling ? .controlled : .controlling)
                    pairs[pi].state = .waiting
                    if !triggered.contains(pi) { triggered.append(pi) }
                } else {
                    pairFailed(pi)
                }
                return
            }
            pairs[pi].state = .succeeded
            validRemotes.insert(from)
            if firstValidAt == nil { firstValidAt = now }
            if useCandidate || (role == .controlled && pairs[pi].remoteNominated) {
                nominate(pi, now: now)
            } else {
                maybeNominate(now: now)  // at once when no better pair is pending
            }
        }
    }

    func pairFailed(_ pi: Int) {
        pairs[pi].state = .failed
        if nominatingPair == pi { nominatingPair = nil }
    }

    /// §8.1.1 (controlling, after its USE-CANDIDATE check succeeded) and §7.3.1.5 (controlled).
    func nominate(_ pi: Int, now: Double) {
        pairs[pi].nominated = true
        if nominatingPair == pi { nominatingPair = nil }
        if let current = selectedPair, current < pairs.count, pairs[current].priority >= pairs[pi].priority { return }
        guard let rc = remoteCredentials else { return }
        let local = locals[pairs[pi].local]
        let remote = remotes[pairs[pi].remote]
        selectedPair = pi
        selected = SelectedPath(local: local, remote: remote.address, remoteType: remote.type,
                                localCredentials: localCredentials, remoteCredentials: rc)
        previousLocal = nil  // the restart (if any) is complete
        consentExpires = now + config.consentTimeout
        nextConsentAt = now + jitteredConsentInterval()
        lastInbound = now
        if let t = local.turn {
            turns[t].client.bindChannel(to: remote.address, now: now)
            drainTurn(t, now: now)
        }
        event(.selectedPair(selected!.description))
        if state != .completed { setState(.connected) }
    }

    func jitteredConsentInterval() -> Double {
        config.consentInterval * Double.random(in: 0.8...1.2, using: &rng)
    }

    // MARK: Timers

    public func nextTimeout() -> Double? {
        guard state != .closed else { return nil }
        var t = Double.infinity
        for tx in transactions.values { t = min(t, tx.nextSend) }
        if remoteCredentials != nil, state != .failed,
           !triggered.isEmpty || pairs.contains(where: { $0.state == .waiting }) { t = min(t, nextCheckAt) }
        if selected != nil, state != .failed {
            t = min(t, consentExpires, nextConsentAt)
            if state != .disconnected { t = min(t, lastInbound + config.disconnectedTimeout) }
        }
        if selected == nil, state == .checking, let since = checkingSince { t = min(t, since + config.checkingTimeout) }
        if role == .controlling, selectedPair == nil, nominatingPair == nil, let first = firstValidAt {
            t = min(t, first + 0.5)
        }
        for slot in turns { if let tt = slot.client.nextTimeout { t = min(t, tt) } }
        return t.isFinite ? t : nil
    }

    public func handleTimeout(now: Double) {
        guard state != .closed else { return }
        retransmit(now: now)
        for t in turns.indices where (turns[t].client.nextTimeout ?? .infinity) <= now {
            turns[t].client.handleTimeout(now: now)
            drainTurn(t, now: now)
        }
        if state != .failed {
            maybeNominate(now: now)
            if remoteCredentials != nil, now >= nextCheckAt {
                var next: Int?
                while next == nil, !triggered.isEmpty {
                    let pi = triggered.removeFirst()
                    if pi < pairs.count { next = pi }
                }
                if next == nil {
                    next = pairs.indices.filter { pairs[$0].state == .waiting }.max { pairs[$0].priority < pairs[$1].priority }
                }
                if let pi = next {
                    startCheck(pi, now: now)
                    nextCheckAt = now + config.pacing
                }
            }
            consent(now: now)
        }
        evaluate(now: now)
    }

    func retransmit(now: Double) {
        for (id, var tx) in transactions where tx.nextSend <= now {
            if tx.sends >= config.checkMaxSends {
                transactions[id] = nil
                switch tx.kind {
                case .check(let pi, _, let gen, _):
                    if gen == generation, pi < pairs.count, pairs[pi].state == .inProgress,
                       !transactions.values.contains(where: { if case .check(pi, _, gen, _) = $0.kind { true } else { false } }) {
                        pairFailed(pi)
                    }
                case .serverReflexive:
                    pendingGather -= 1
                    checkGatheringDone()
                case .consent:
                    break
                }
                continue
            }
            tx.sends += 1
            tx.rto = min(tx.rto * 2, 1.6)
            tx.nextSend = now + tx.rto
            transactions[id] = tx
            switch tx.kind {
            case .serverReflexive(let socket): transmit(tx.bytes, socket: socket, to: tx.remote)
            case .consent: if let path = selected { emit(tx.bytes, from: path.local, to: path.remote) }
            case .check: emit(tx.bytes, from: tx.local, to: tx.remote)
            }
        }
    }

    /// §8.1.1 regular nomination: once the best pair is valid (or half a second after the first
    /// valid pair, rather than waiting for slower higher-priority pairs), check it again with
    /// USE-CANDIDATE.
    func maybeNominate(now: Double) {
        guard role == .controlling, selectedPair == nil, nominatingPair == nil, let first = firstValidAt else { return }
        guard let best = pairs.indices.filter({ pairs[$0].state == .succeeded })
            .max(by: { pairs[$0].priority < pairs[$1].priority }) else { return }
        let betterPending = pairs.contains { ($0.state == .waiting || $0.state == .inProgress) && $0.priority > pairs[best].priority }
        guard !betterPending || now >= first + 0.5 else { return }
        nominatingPair = best
        pairs[best].nominateNext = true
        triggered.removeAll { $0 == best }
        startCheck(best, now: now)
    }

    /// RFC 7675: a check every ~5 s on the selected pair; 30 s without a response → failed.
    func consent(now: Double) {
        guard selected != nil else { return }
        if now >= consentExpires {
            event(.log("consent expired on \(selected!.description)"))
            selected = nil
            transactions.removeAll()
            setState(.failed)
            return
        }
        if now >= nextConsentAt {
            sendConsentCheck(now: now)
            nextConsentAt = now + jitteredConsentInterval()
        }
        if state != .disconnected, now >= lastInbound + config.disconnectedTimeout {
            setState(.disconnected)
        }
    }

    func evaluate(now: Double) {
        if selected == nil, state == .checking {
            let settled = !pairs.isEmpty && triggered.isEmpty && pairs.allSatisfy { $0.state == .failed }
            if (settled && remoteEnded && gatheringDone)
                || (checkingSince.map { now >= $0 + config.checkingTimeout } ?? false) {
                setState(.failed)
            }
        } else if state == .connected, selectedPair != nil, remoteEnded,
                  !pairs.contains(where: { $0.state == .waiting || $0.state == .inProgress }) {
            setState(.completed)
        }
    }
}
