using Fugue.Hosting.Worker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Fugue.Hosting.Tests.Units;

/// <summary>Fugue:RequestTimeout on a fake clock: which requests have a deadline, cancellation first, hung only after the grace.</summary>
public sealed class RequestDeadlineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    private readonly FakeTimeProvider _time = new();
    private readonly List<(string Path, TimeSpan Limit)> _cancelled = [];
    private readonly RequestDeadline _deadline;

    public RequestDeadlineTests() =>
        _deadline = new RequestDeadline(Timeout, Grace, new Dictionary<string, RequestTimeoutPolicy> { ["short"] = new() { Timeout = TimeSpan.FromSeconds(1) } },
            (path, limit) => _cancelled.Add((path, limit)), _time);

    [Fact]
    public async Task A_request_that_ignores_its_cancellation_makes_the_worker_hung_once_the_grace_has_passed()
    {
        var release = new TaskCompletionSource();
        var context = Request("/hang");
        var request = Run(context, _ => release.Task);

        Advance(Timeout);
        Assert.False(_deadline.Check());
        Assert.False(context.RequestAborted.IsCancellationRequested);
        Advance(TimeSpan.FromSeconds(1));
        Assert.False(_deadline.Check());
        Assert.True(context.RequestAborted.IsCancellationRequested); // cancelled at its deadline, not yet hung
        Advance(Grace);
        Assert.True(_deadline.Check());
        Assert.Equal(("/hang", Timeout + TimeSpan.FromSeconds(1) + Grace), await _deadline.Overran);
        Assert.Equal([("/hang", Timeout)], _cancelled); // told once

        release.SetResult();
        await request;
        Assert.False(_deadline.Check()); // nothing runs any more
    }

    [Fact]
    public async Task A_request_that_honours_its_cancellation_gets_504_and_the_worker_stays()
    {
        var context = Request("/wait");
        var request = Run(context, c => Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, c.RequestAborted));

        Advance(Timeout + TimeSpan.FromSeconds(1));
        Assert.False(_deadline.Check());
        await request.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(StatusCodes.Status504GatewayTimeout, context.Response.StatusCode);
        Advance(TimeSpan.FromHours(1));
        Assert.False(_deadline.Check());
        Assert.False(_deadline.Overran.IsCompleted);
    }

    [Theory]
    [InlineData("websocket")]
    [InlineData("event-stream")]
    [InlineData("hub")]
    [InlineData("disabled")]
    [InlineData("infinite")]
    [InlineData("feature")]
    public async Task A_request_meant_to_last_has_no_deadline(string kind)
    {
        var release = new TaskCompletionSource();
        var context = kind switch
        {
            "websocket" => Upgrading(Request("/ws")),
            "event-stream" => Started(Request("/events"), "text/event-stream; charset=utf-8"),
            "hub" => Request("/hub", new HubMetadata(typeof(Hub))),
            "disabled" => Request("/export", new DisableRequestTimeoutAttribute()),
            "infinite" => Request("/export", new RequestTimeoutPolicy { Timeout = System.Threading.Timeout.InfiniteTimeSpan }),
            _ => Request("/poll"),
        };
        var request = Run(context, c =>
        {
            if (kind == "feature")
            {
                c.Features.GetRequiredFeature<IHttpRequestTimeoutFeature>().DisableTimeout(); // as SignalR's transports do
            }
            return release.Task;
        });

        Advance(TimeSpan.FromHours(1));

        Assert.False(_deadline.Check());
        Assert.False(context.RequestAborted.IsCancellationRequested);
        Assert.Empty(_cancelled);
        release.SetResult();
        await request;
    }

    [Theory]
    [InlineData("attribute")]
    [InlineData("policy")]
    [InlineData("named policy")]
    public async Task An_endpoints_own_request_timeout_sets_its_deadline(string how)
    {
        var release = new TaskCompletionSource();
        var context = Request("/quick", how switch
        {
            "attribute" => new RequestTimeoutAttribute(milliseconds: 1000),
            "policy" => new RequestTimeoutPolicy { Timeout = TimeSpan.FromSeconds(1) },
            _ => new RequestTimeoutAttribute("short"),
        });
        var request = Run(context, _ => release.Task);

        Advance(TimeSpan.FromSeconds(2));
        Assert.False(_deadline.Check());
        Assert.True(context.RequestAborted.IsCancellationRequested);
        Assert.Equal([("/quick", TimeSpan.FromSeconds(1))], _cancelled);
        Advance(Grace);
        Assert.True(_deadline.Check());

        release.SetResult();
        await request;
    }

    [Theory]
    [InlineData("upload")]
    [InlineData("response stream")]
    [InlineData("response writer")]
    public async Task Time_spent_waiting_on_a_slow_client_is_the_clients(string how)
    {
        var client = new TaskCompletionSource();
        var appWork = new TaskCompletionSource();
        var transferred = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var context = Request("/transfer");
        context.Request.Body = new WaitingStream(client.Task);
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(new WaitingStream(client.Task)));
        var request = Run(context, async c =>
        {
            switch (how)
            {
                case "upload":
                    Assert.Equal(0, await c.Request.Body.ReadAsync(new byte[16]));
                    break;
                case "response stream":
                    await c.Response.Body.WriteAsync(new byte[16]);
                    break;
                default:
                    await c.Response.BodyWriter.WriteAsync(new byte[16]);
                    break;
            }
            transferred.SetResult();
            await appWork.Task; // then the app works on, ignoring its cancellation
        });

        Advance(TimeSpan.FromHours(1)); // the client trickles within Kestrel's minimum data rate
        Assert.False(_deadline.Check());
        Assert.False(context.RequestAborted.IsCancellationRequested);
        client.SetResult();
        await transferred.Task.WaitAsync(TimeSpan.FromMinutes(1));
        Advance(Timeout + TimeSpan.FromSeconds(1));
        Assert.False(_deadline.Check());
        Assert.True(context.RequestAborted.IsCancellationRequested);
        Advance(Grace);
        Assert.True(_deadline.Check());
        Assert.InRange((await _deadline.Overran).Ran, Timeout + Grace, Timeout + Grace + TimeSpan.FromSeconds(1));

        appWork.SetResult();
        await request;
    }

    private void Advance(TimeSpan by) => _time.Advance(by);

    private Task Run(HttpContext context, RequestDelegate handler)
    {
        var app = new ApplicationBuilder(new ServiceCollection().BuildServiceProvider());
        _deadline.Configure(a => a.Run(handler))(app);
        return app.Build()(context);
    }

    private static DefaultHttpContext Request(string path, params object[] metadata)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        if (metadata.Length > 0)
        {
            context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(metadata), path));
        }
        return context;
    }

    private static DefaultHttpContext Upgrading(DefaultHttpContext context)
    {
        context.Features.Set<IHttpUpgradeFeature>(new UpgradeFeature());
        return context;
    }

    private static DefaultHttpContext Started(DefaultHttpContext context, string contentType)
    {
        context.Response.ContentType = contentType;
        context.Features.Set<IHttpResponseFeature>(new StartedResponse { Headers = context.Response.Headers });
        return context;
    }

    /// <summary>A client that sends or reads nothing until it is released.</summary>
    private sealed class WaitingStream(Task client) : MemoryStream
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await client.WaitAsync(cancellationToken);
            return 0;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => await client.WaitAsync(cancellationToken);

        public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => await client.WaitAsync(cancellationToken);
    }

    private sealed class UpgradeFeature : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => true;

        public Task<Stream> UpgradeAsync() => throw new NotSupportedException();
    }

    private sealed class StartedResponse : HttpResponseFeature
    {
        public override bool HasStarted => true;
    }
}
