namespace Fugue.Hosting.Worker;

/// <summary>
/// A request's body, or its response's, whose reads, writes and flushes are time waiting on the client: a slow upload
/// or a slow reader (within Kestrel's minimum data rates) does not bring the request nearer its deadline.
/// </summary>
internal sealed class ClientTimedStream(Stream inner, TimedRequest request) : Stream
{
    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => inner.CanSeek;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => inner.Length;

    public override long Position { get => inner.Position; set => inner.Position = value; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var wait = request.WaitOnClient();
        return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        using var wait = request.WaitOnClient();
        return inner.Read(buffer, offset, count);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var wait = request.WaitOnClient();
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        using var wait = request.WaitOnClient();
        inner.Write(buffer, offset, count);
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        using var wait = request.WaitOnClient();
        await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void SetLength(long value) => inner.SetLength(value);
}
