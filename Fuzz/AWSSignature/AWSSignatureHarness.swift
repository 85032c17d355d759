// libFuzzer harness: the AWS front door's request authentication (AWSGateway): the SigV4 Authorization header and
// presigned query, the canonical request, and the aws-chunked body decoder with its chunk and trailer signatures.
import AWSGateway
import FuzzSupport

/// The input is a request in the text form of AWS's test suite (`.req`). The harness authenticates it as sent, then
/// signed again correctly (as an SDK would sign what it claims) and with a wrong signature, and decodes its body.
enum AWSSignatureHarness {
    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        guard let text = FuzzRequestText(bytes) else { return .refused("no request line") }
        let request = text.request
        // Any body, signed or not, whole or cut: the decoder answers the same.
        let body = Array(text.body.prefix(8192))
        for (signing, trailer) in [(nil, true), (ChunkedBodyChecks.fixedSigning, false)] as [(ChunkSigning?, Bool)] {
            if let problem = ChunkedBodyChecks.sameWhateverTheCut(body, signing: signing, trailer: trailer) {
                return .invariantBroken(problem)
            }
        }
        let service: AWSService = request.header("authorization").map { $0.contains("/lambda/") } ?? false
            || (request.queryItems["X-Amz-Credential"]?.contains("/lambda/") ?? false) ? .lambda : .s3
        let asSent: Result<Authenticated, AWSError>
        switch authenticate(request, service: service) {
        case .none: return .invariantBroken("authenticate threw an error that is not an AWSError")
        case .some(let result): asSent = result
        }
        guard let resigned = ResignedRequest(request, service: service) else {
            if case .success = asSent { return .invariantBroken("accepted a request no client could have signed") }
            return outcome(asSent, resigned: false)
        }
        if case .success = asSent, resigned.original.lowercased() != resigned.signature {
            return .invariantBroken("accepted signature '\(resigned.original)', the right one is \(resigned.signature)")
        }
        guard case .some(let signed) = authenticate(resigned.request, service: service),
            case .some(let tampered) = authenticate(resigned.tampered, service: service)
        else { return .invariantBroken("authenticate threw an error that is not an AWSError") }
        if case .success = tampered { return .invariantBroken("accepted a signature one digit off the right one") }
        switch signed {
        case .failure(let error):
            if error.message.hasPrefix("The request signature we calculated") {
                return .invariantBroken("the right signature is refused: \(error)")
            }
        case .success(let authenticated):
            if let problem = checkPayload(authenticated, request: resigned.request, body: body) {
                return .invariantBroken(problem)
            }
        }
        return outcome(signed, resigned: true)
    }

    /// `nil` when `authenticate` threw something other than an `AWSError`.
    static func authenticate(_ request: SignedRequest, service: AWSService) -> Result<Authenticated, AWSError>? {
        do {
            return .success(
                try FuzzSigningKey.authenticator.authenticate(request, service: service, now: FuzzSigningKey.now))
        } catch let error as AWSError {
            return .failure(error)
        } catch {
            return nil
        }
    }

    /// The payload promise follows `x-amz-content-sha256`; a chunked one decodes a body signed in its chain.
    static func checkPayload(_ authenticated: Authenticated, request: SignedRequest, body: [UInt8]) -> String? {
        let claim = request.header("x-amz-content-sha256")
        switch authenticated.payload {
        case .unsigned:
            guard authenticated.presigned || claim == SignatureV4.unsignedPayload else {
                return "payload unsigned for x-amz-content-sha256 '\(claim ?? "none")'"
            }
        case .sha256(let hash):
            guard hash.count == 64, hash == hash.lowercased(), hash.allSatisfy(\.isHexDigit) else {
                return "payload hash '\(hash)' is not lowercase hex SHA-256"
            }
        case .chunked(let signing, let trailer):
            guard let claim, claim.hasPrefix("STREAMING-"), claim.hasSuffix("-TRAILER") == trailer,
                (signing == nil) == (claim == "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
            else { return "chunked payload (signed \(signing != nil), trailer \(trailer)) for '\(claim ?? "none")'" }
            if let problem = ChunkedBodyChecks.signedRoundTrip(body, signing: signing, trailer: trailer) {
                return problem
            }
            return ChunkedBodyChecks.sameWhateverTheCut(body, signing: signing, trailer: trailer)
        }
        return nil
    }

    static func outcome(_ result: Result<Authenticated, AWSError>, resigned: Bool) -> FuzzOutcome {
        switch result {
        case .success(let authenticated):
            let payload: String
            switch authenticated.payload {
            case .unsigned: payload = "unsigned payload"
            case .sha256(let hash): payload = "payload sha256 \(hash.prefix(12))…"
            case .chunked(let signing, let trailer):
                payload = "aws-chunked payload, \(signing == nil ? "unsigned" : "signed") chunks"
                    + (trailer ? " and trailer" : "")
            }
            return .accepted("\(authenticated.presigned ? "presigned URL" : "Authorization header"), \(payload)")
        case .failure(let error):
            return .refused((resigned ? "signed again: " : "") + error.description)
        }
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        FuzzEntry.fuzz(data, count, harness: AWSSignatureHarness.run)
    }
#endif

@main
enum AWSSignatureMain {
    /// Built for fuzzing: libFuzzer's driver on `LLVMFuzzerTestOneInput`. Otherwise: replays the files named.
    static func main() {
        #if FUZZING
            FuzzEntry.fuzzerMain(fuzzTestOneInput)
        #else
            FuzzEntry.replayMain(harness: AWSSignatureHarness.run)
        #endif
    }
}
