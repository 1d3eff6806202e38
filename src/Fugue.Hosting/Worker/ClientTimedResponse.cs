using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Fugue.Hosting.Worker;

/// <summary>The response body as the app sees it while a deadline runs: Kestrel's, with the time it waits on the client timed.</summary>
#pragma warning disable CA1001 // its stream only wraps Kestrel's, which Kestrel disposes with the request
internal sealed class ClientTimedResponse(IHttpResponseBodyFeature inner, TimedRequest request) : IHttpResponseBodyFeature
{
    private readonly ClientTimedStream _stream = new(inner.Stream, request);
    private readonly ClientTimedWriter _writer = new(inner.Writer, request);
#pragma warning restore CA1001

    public Stream Stream => _stream;

    public PipeWriter Writer => _writer;

    public void DisableBuffering() => inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

    public Task CompleteAsync() => inner.CompleteAsync();

    public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        using var wait = request.WaitOnClient();
        await inner.SendFileAsync(path, offset, count, cancellationToken).ConfigureAwait(false);
    }
}
