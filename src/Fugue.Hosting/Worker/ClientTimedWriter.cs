using System.IO.Pipelines;

namespace Fugue.Hosting.Worker;

/// <summary>The response's <see cref="PipeWriter"/>, whose flushes are time waiting on the client (see <see cref="ClientTimedStream"/>).</summary>
internal sealed class ClientTimedWriter(PipeWriter inner, TimedRequest request) : PipeWriter
{
    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => inner.UnflushedBytes;

    public override void Advance(int bytes) => inner.Advance(bytes);

    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        using var wait = request.WaitOnClient();
        return await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        using var wait = request.WaitOnClient();
        return await inner.WriteAsync(source, cancellationToken).ConfigureAwait(false);
    }
}
