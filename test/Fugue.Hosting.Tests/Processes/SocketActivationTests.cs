using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Fugue.Hosting.Master.Listeners;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Configuration;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>Socket activation: the sockets systemd passes (LISTEN_FDS) are served instead of bound.</summary>
public sealed class SocketActivationTests
{
    [Theory]
    [InlineData(null, null, null, "")]
    [InlineData("999", "2", null, "")] // for another process
    [InlineData("100", "2", null, "3 unknown|4 unknown")]
    [InlineData("100", "2", "web:admin", "3 web|4 admin")]
    [InlineData("100", "1", "", "3 unknown")]
    public void The_variables_name_descriptors_from_3_and_only_for_this_process(string? pid, string? fds, string? names, string expected)
    {
        var passed = SocketActivation.Parse(pid, fds, names, processId: 100);
        Assert.Equal(expected, string.Join('|', passed.Select(p => $"{p.Fd} {p.Name}")));
    }

    [Theory]
    [InlineData("me", "1", null, "LISTEN_PID = 'me' is not a process id.")]
    [InlineData("100", "-1", null, "LISTEN_FDS = '-1' is not a count of descriptors (0 to 1024).")]
    [InlineData("100", "2", "web", "LISTEN_FDNAMES = 'web' names 1 descriptor(s), LISTEN_FDS = 2.")]
    public void Bad_variables_are_refused_naming_the_variable_and_its_value(string pid, string fds, string? names, string error)
    {
        Assert.Equal(error, Assert.Throws<InvalidOperationException>(() => SocketActivation.Parse(pid, fds, names, processId: 100)).Message);
    }

    private static readonly ActivatedSocket Http80 = new(3, "web", new IPEndPoint(IPAddress.IPv6Any, 80));
    private static readonly ActivatedSocket Https443 = new(4, "tls", new IPEndPoint(IPAddress.Any, 443));
    private static readonly ActivatedSocket Admin = new(5, "admin", new UnixDomainSocketEndPoint("/run/app/admin.sock"));

    [Theory]
    [InlineData("", "3 systemd:web|4 systemd:tls|5 systemd:admin")]
    [InlineData("http://localhost:5000", "3 systemd:web|4 systemd:tls|5 systemd:admin")] // no entry names one: they replace Listen
    [InlineData("http://0.0.0.0:80 https://*:443 unix:/run/app/admin.sock", "3 http://0.0.0.0:80|4 https://*:443|5 unix:/run/app/admin.sock")]
    [InlineData("systemd:admin https://0.0.0.0:443 http://[::]:80 http://127.0.0.1:9000", "3 http://[::]:80|4 https://0.0.0.0:443|5 systemd:admin")]
    public void Each_passed_socket_serves_the_Listen_entry_that_names_it_or_its_own_name_when_none_does(string listen, string expected)
    {
        var entries = Entries(listen);
        var handed = SocketActivation.Assign([Http80, Https443, Admin], entries);
        Assert.Equal(expected, string.Join('|', handed.Select(h => $"{h.Fd} {h.ListenEntry}")));
    }

    [Fact]
    public void Once_an_entry_names_a_passed_socket_every_passed_socket_must_match_one()
    {
        var error = Assert.Throws<InvalidOperationException>(() => SocketActivation.Assign([Http80, Https443], Entries("http://*:80"))).Message;
        Assert.Equal("LISTEN_FDS: fd 4 'tls' on 0.0.0.0:443 matches no Fugue:Listen entry; add one with its address, or systemd:tls.", error);
    }

    [Theory]
    [InlineData("", "LISTEN_FDS systemd:web")]
    [InlineData("http://127.0.0.1:0", "LISTEN_FDS systemd:web")] // a successor of a master whose passed sockets replaced Listen
    [InlineData("systemd:web", "Fugue:Listen:0 systemd:web")]
    public void A_successor_keeps_serving_the_passed_sockets_that_replaced_the_Listen_entries(string listen, string expected)
    {
        var options = new FugueOptions();
        foreach (string entry in listen.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            options.Listen.Add(entry);
        }
        var plan = ListenPlan.Entries(options, new ConfigurationBuilder().Build(), [new InheritedSocket(3, "systemd:web")]);
        Assert.Equal(expected, string.Join('|', plan.Select(e => $"{e.Key} {e.Value}")));
    }

    private static List<(string, ListenAddress)> Entries(string listen) =>
        listen.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select((text, i) =>
        {
            Assert.True(ListenAddress.TryParse(text, out var address, out string? error), error);
            return ($"Fugue:Listen:{i}", address!);
        }).ToList();

    [ToolFact("/usr/bin/systemd-socket-activate", "systemd")]
    public async Task A_master_started_by_systemd_socket_activate_serves_the_first_connection_and_hands_the_socket_on_across_USR2()
    {
        int port = Http.FreePort();
        // systemd-socket-activate refuses the name Logging__LogLevel__Microsoft.AspNetCore: without it every request
        // would be logged, and the load below would flood the output.
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__Listen__0"] = null!, ["Logging__LogLevel__Microsoft"] = "Warning" },
            activate: ["--listen", $"127.0.0.1:{port}", "--fdname=web"]);
        master.WaitForLine($"Listening on 127.0.0.1:{port} as 3");

        // The connection that makes systemd-socket-activate start the app is served by one of its workers.
        string first = await Http.GetAsync($"http://127.0.0.1:{port}/");
        var activated = master.WaitForEvent(SocketActivated, master.Pid);
        Assert.Equal((3, "web", "systemd:web"), (activated.Int("Fd"), activated.Text("Name"), activated.Text("Entry")));
        Assert.Equal($"http://127.0.0.1:{port}", master.WaitForEvent(Listening, master.Pid).Text("Url"));
        master.WaitForAllReady(2);
        var workers = master.StartedWorkers().Values.ToList();
        Assert.Contains(Pid(first), workers);
        NonEmpty.All(workers, pid => Assert.DoesNotContain("LISTEN_", File.ReadAllText($"/proc/{pid}/environ"), StringComparison.Ordinal));

        await using var load = new Load(port, 2, 2);
        load.WaitForMore(master, 50);
        master.Signal(12);
        int successor = master.WaitForSuccessor();
        Assert.Equal(successor, master.WaitForTakeOver(master.Pid));
        Assert.Equal($"http://127.0.0.1:{port}", master.WaitForEvent(Listening, successor).Text("Url"));
        Assert.Equal(0, master.CountEvents(SocketActivated, successor));
        load.WaitForMore(master, 100);
        await load.DisposeAsync();
        Assert.Empty(load.Failures);

        ProcessTree.Kill(successor, 15);
        master.WaitForEvent(Stopped, successor);
    }

    private static int Pid(string answer) => int.Parse(Regex.Match(answer, @"pid (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
}
