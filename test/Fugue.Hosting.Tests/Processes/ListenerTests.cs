using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>What the master binds and what the workers serve on it.</summary>
public sealed class ListenerTests
{
    [Fact]
    public async Task A_unix_socket_is_served_replaced_when_stale_and_removed_on_exit()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.sock");
        var env = new Dictionary<string, string> { ["Fugue__Listen__0"] = "unix:" + path };
        try
        {
            using (var killed = MasterProcess.Start("TestApp", env))
            {
                killed.WaitForAllReady(2);
                killed.Signal(9); // leaves the socket file behind, as a crashed master would
                Assert.True(killed.WaitForExit());
            }
            Assert.True(File.Exists(path));

            using var master = MasterProcess.Start("TestApp", env);
            master.WaitForEvent(Listening, e => e.Text("Url") == "unix:" + path);
            master.WaitForAllReady(2);
            using var client = Http.UnixClient(path);
            Assert.StartsWith("worker ", await client.GetStringAsync("/"), StringComparison.Ordinal);

            // A live socket is not taken over.
            using var second = MasterProcess.Start("TestApp", env);
            Assert.True(second.WaitForExit());
            Assert.NotEqual(0, second.ExitCode);
            Assert.Contains($"another process is listening on {path}", second.Output, StringComparison.Ordinal);
            Assert.Equal(0, second.CountEvents(WorkerStarted));

            master.Signal(15);
            Assert.True(master.WaitForExit());
            Assert.Equal(0, master.ExitCode);
            Assert.False(File.Exists(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task The_tcp_echo_sample_greets_each_connection_from_a_worker()
    {
        using var master = MasterProcess.Start("TcpEcho");
        var uri = new Uri(master.WaitForUrl());
        master.WaitForAllReady(2);
        var workers = master.StartedWorkers();

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, uri.Port);
        using var reader = new StreamReader(client.GetStream(), Encoding.UTF8);
        string? line = await reader.ReadLineAsync();

        Assert.Contains(line, workers.Select(w => $"Hello from worker {w.Key} (pid {w.Value})"));
        Assert.Null(await reader.ReadLineAsync()); // and closes
    }

    [Fact]
    public async Task Http2_with_prior_knowledge_is_served_on_a_plain_endpoint()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Kestrel__EndpointDefaults__Protocols"] = "Http2" });
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);

        using var client = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await client.GetAsync(url + "/protocol");

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.StartsWith("HTTP/2 http worker ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Https_uses_the_certificate_from_kestrel_configuration()
    {
        string pfx = Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.pfx");
        using var certificate = SelfSigned();
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "secret"));
        try
        {
            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
            {
                ["Fugue__Listen__0"] = "https://127.0.0.1:0",
                ["Kestrel__Certificates__Default__Path"] = pfx,
                ["Kestrel__Certificates__Default__Password"] = "secret",
            });
            string url = master.WaitForUrl("https");
            master.WaitForAllReady(2);

            // Trusted only if it is exactly the certificate the test gave Kestrel.
            using var client = new HttpClient(new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == certificate.Thumbprint },
            });
            string body = await client.GetStringAsync(url + "/protocol");

            Assert.Contains(" https worker ", body, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(pfx);
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    [Fact]
    public void A_port_in_use_is_a_clear_error_and_nothing_is_started()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;

        using var temporaryPidFile = new TempPidFile();
        string pidFile = temporaryPidFile.Path;
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__Listen__0"] = $"http://127.0.0.1:{port}",
            ["Fugue__PidFile"] = pidFile,
        });

        Assert.True(master.WaitForExit());
        Assert.False(File.Exists(pidFile));
        Assert.False(File.Exists(pidFile + ".lock"));
        Assert.NotEqual(0, master.ExitCode);
        Assert.Contains($"Fugue cannot listen on http://127.0.0.1:{port} (Fugue:Listen:0): the address is already in use", master.Output, StringComparison.Ordinal);
        Assert.Equal(0, master.CountEvents(WorkerStarted));
        Assert.Empty(Directory.EnumerateFileSystemEntries(master.TempPath)); // no control socket, nor its directory
    }

    [Fact]
    public async Task With_zero_workers_the_kernel_queues_connections_until_a_worker_comes()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__Workers"] = "0" });
        var uri = new Uri(master.WaitForUrl());
        master.WaitForAllReady(0);

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, uri.Port); // accepted by the kernel's backlog
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        var buffer = new byte[4096];
        var read = stream.ReadAsync(buffer).AsTask();
        Assert.False(read.IsCompleted); // nobody answers: there is no worker

        master.Signal(21); // SIGTTIN: one worker more
        master.WaitForAllReady(1);
        int n = await read.WaitAsync(MasterProcess.Deadline);

        Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(buffer, 0, n), StringComparison.Ordinal);
    }
}
