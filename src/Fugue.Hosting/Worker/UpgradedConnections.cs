using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Fugue.Hosting.Worker;

/// <summary>
/// The WebSockets (HTTP/1.1 upgrades) the app accepted, so that a draining worker can say goodbye: once the lame-duck
/// period is over, each one still open gets a close frame, 1001 Going Away, and clients reconnect at once to a live
/// worker instead of holding the old one until WorkerKillTimeout and losing the connection without a close. The app's
/// own writes go through the same stream, one frame at a time, so the close frame never lands inside one of them; a
/// close the app sent first (it closes its sockets on ApplicationStopping) leaves that socket alone, and what the app
/// writes after Fugue's close is dropped. A connection still open <see cref="Grace"/> later (an app that never reads
/// again) is aborted.
/// </summary>
internal sealed class UpgradedConnections
{
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<ClosingStream, HttpContext> _open = new();

    /// <summary>Whether the request asks for a WebSocket (HTTP/1.1 Upgrade: websocket).</summary>
    public static bool IsWebSocket(HttpRequest request) =>
        request.Headers.Upgrade.Any(v => v?.Contains("websocket", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>The upgrade feature the app's WebSocket middleware will use: the same, with the stream tracked.</summary>
    public IHttpUpgradeFeature Track(IHttpUpgradeFeature inner, HttpContext context) => new TrackedUpgrade(inner, context, this);

    public int Count => _open.Count;

    /// <summary>Sends every open WebSocket a close frame, then aborts those still open after <see cref="Grace"/>.</summary>
    public async Task CloseAllAsync(CancellationToken cancellationToken)
    {
        var open = _open.Keys.ToList();
        if (open.Count == 0)
        {
            return;
        }
        await Task.WhenAll(open.Select(s => s.SendCloseAsync())).ConfigureAwait(false);
        try
        {
            await Task.Delay(Grace, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        foreach (var context in _open.Values)
        {
            context.Abort();
        }
    }

    private sealed class TrackedUpgrade(IHttpUpgradeFeature inner, HttpContext context, UpgradedConnections owner) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => inner.IsUpgradableRequest;

        public async Task<Stream> UpgradeAsync()
        {
            var stream = new ClosingStream(await inner.UpgradeAsync().ConfigureAwait(false));
            owner._open[stream] = context;
            context.RequestAborted.Register(() => owner._open.TryRemove(stream, out _));
            context.Response.RegisterForDispose(new Untrack(owner, stream));
            return stream;
        }
    }

    private sealed class Untrack(UpgradedConnections owner, ClosingStream stream) : IDisposable
    {
        public void Dispose() => owner._open.TryRemove(stream, out _);
    }

    /// <summary>The upgraded stream, writes serialized, with a watch on close frames (opcode 8) going out.</summary>
    private sealed class ClosingStream(Stream inner) : Stream
    {
        // FIN + opcode 8 (close), 2 + reason bytes unmasked, status 1001 (Going Away / EndpointUnavailable), reason.
        private static readonly byte[] CloseFrame = [0x88, 22, 0x03, 0xE9, .. "the worker is stopping"u8];

        private readonly SemaphoreSlim _write = new(1, 1);
        private bool _closeSent;

        public async Task SendCloseAsync()
        {
            await _write.WaitAsync().ConfigureAwait(false);
            try
            {
                if (!_closeSent)
                {
                    _closeSent = true;
                    await inner.WriteAsync(CloseFrame).ConfigureAwait(false);
                    await inner.FlushAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The connection is gone already.
            }
            finally
            {
                _write.Release();
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await _write.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_closeSent)
                {
                    return; // after a close frame nothing more may be sent
                }
                // The app's WebSocket writes a whole frame per call: its first byte tells a close frame.
                if (buffer.Length > 0 && (buffer.Span[0] & 0x0F) == 0x8)
                {
                    _closeSent = true;
                }
                await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _write.Release();
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override bool CanRead => inner.CanRead;
        public override bool CanWrite => inner.CanWrite;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                _write.Dispose();
            }
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            _write.Dispose();
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
