using Fugue.Hosting.Protocol;
using Fugue.Hosting.Master;
using Fugue.Hosting.Native;
using Fugue.Hosting.Worker;

namespace Fugue.Hosting.Tests;

/// <summary>The identities a master gives its children: version 2 round-trips, version 1 (the previous release) still reads.</summary>
public sealed class ProtocolTests
{
    [Fact]
    public void A_worker_identity_round_trips_with_separators_in_paths_and_the_settings_it_was_launched_with()
    {
        var settings = new WorkerSettings(TimeSpan.FromSeconds(7), TimeSpan.FromMilliseconds(1500), TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(3),
            TimeSpan.FromMilliseconds(250), "/warm;up=1,2\n\"x\"", 17);
        var identity = new WorkerIdentity(2, 100, FdLayout.Channel, [new InheritedListener(FdLayout.Listener(0), Https: false), new InheritedListener(5, true)],
            "/tmp/a;b=c\n/control.sock", settings, new Credentials(65534, 65534, [65534, 27]), new InheritedCell(FdLayout.AfterListeners(2), 3), WarmUp: true);

        string wire = identity.Serialize();
        var parsed = WorkerIdentity.Parse(wire);

        Assert.StartsWith("{", wire, StringComparison.Ordinal);
        Assert.Equal(2, parsed.Version);
        Assert.Equal(identity.MasterSocketPath, parsed.MasterSocketPath);
        Assert.Equal(settings, parsed.Settings);
        Assert.Equal(identity.Listeners, parsed.Listeners);
        Assert.Equal([65534u, 27u], parsed.RunAs!.Groups);
        Assert.Equal((identity.WorkerId, identity.MasterPid, identity.ControlFd, identity.Connections, identity.WarmUp),
            (parsed.WorkerId, parsed.MasterPid, parsed.ControlFd, parsed.Connections, parsed.WarmUp));
    }

    [Fact]
    public void A_spare_keeps_its_flag_on_the_wire_and_takes_one_slot_once()
    {
        var spare = WorkerIdentity.Parse(new WorkerIdentity(0, 100, FdLayout.Channel, [], null, null, WarmUp: true, Spare: true).Serialize());
        Assert.True(spare.Spare);
        Assert.False(spare.Promoted.IsCompleted);

        Assert.False(spare.Promote(0));
        Assert.True(spare.Promote(3));
        Assert.False(spare.Promote(1));

        Assert.True(spare.Promoted.IsCompletedSuccessfully);
        Assert.Equal(3, spare.WorkerId);
        var worker = new WorkerIdentity(2, 100, FdLayout.Channel, [], null, null);
        Assert.True(worker.Promoted.IsCompletedSuccessfully);
        Assert.False(worker.Promote(3));
        Assert.Equal(2, worker.WorkerId);
    }

    [Fact]
    public void A_worker_started_by_a_master_of_the_previous_release_reads_its_identity()
    {
        // What WorkerIdentity.Serialize wrote before version 2.
        var parsed = WorkerIdentity.Parse("id=3;master=4242;control=3;listen=4:http,5:https;socket=/tmp/fugue-4242.sock;as=65534:65534:65534/27;connections=6:2;warm=1");

        Assert.Equal(1, parsed.Version);
        Assert.Equal((3, 4242, 3), (parsed.WorkerId, parsed.MasterPid, parsed.ControlFd));
        Assert.Equal([new InheritedListener(4, false), new InheritedListener(5, true)], parsed.Listeners);
        Assert.Equal("/tmp/fugue-4242.sock", parsed.MasterSocketPath);
        Assert.Equal(new InheritedCell(6, 2), parsed.Connections);
        Assert.Equal([65534u, 27u], parsed.RunAs!.Groups);
        Assert.True(parsed.WarmUp);
        Assert.Null(parsed.Settings); // it reads its own configuration, as that release's workers did
    }

    [Fact]
    public void A_new_master_reads_what_an_old_master_of_the_previous_release_handed_over()
    {
        // What SuccessorIdentity.Serialize wrote before version 2.
        var parsed = SuccessorIdentity.Parse("old=4242\nchannel=3\nlock=6\nnice=0\nlisten=4 http://127.0.0.1:5000\nlisten=5 unix:/run/my app.sock");

        Assert.Equal(1, parsed.Version);
        Assert.Equal((4242, 3, (int?)6, (int?)0), (parsed.OldMasterPid, parsed.ChannelFd, parsed.LockFd, parsed.ServingNice));
        Assert.Equal([new InheritedSocket(4, "http://127.0.0.1:5000"), new InheritedSocket(5, "unix:/run/my app.sock")], parsed.Sockets);
    }

    [Fact]
    public void A_successor_identity_round_trips()
    {
        var identity = new SuccessorIdentity(4242, FdLayout.Channel, null, [new InheritedSocket(4, "http://[::1]:0"), new InheritedSocket(5, "unix:/a\nb")], 5);

        var parsed = SuccessorIdentity.Parse(identity.Serialize());

        Assert.Equal(2, parsed.Version);
        Assert.Equal(identity.Sockets, parsed.Sockets);
        Assert.Equal((identity.OldMasterPid, identity.ChannelFd, identity.LockFd, identity.ServingNice), (parsed.OldMasterPid, parsed.ChannelFd, parsed.LockFd, parsed.ServingNice));
    }

    [Fact]
    public void The_identities_are_written_byte_for_byte_as_the_serializer_of_the_previous_release_wrote_them()
    {
        // What the previous release's JsonSerializer wrote for these identities: a master and a child of either release
        // read each other's.
        const string Worker = """{"MasterPid":100,"ControlFd":3,"Listeners":[{"Fd":4,"Https":false},{"Fd":5,"Https":true}],"MasterSocketPath":"/tmp/a;b=c\n/control.sock","Settings":{"KillTimeout":"00:00:07","Timeout":"00:00:01.5000000","BootTimeout":"1.00:02:00","MasterPingInterval":"00:00:03","LameDuckPeriod":"00:00:00.2500000","WarmUpPath":"/warm;up=1,2\n\u0022x\u0022 \u003C\u00E9\u003E","WarmUpRequests":17,"KeyRingPath":"/k","ReadinessTag":"ready","HubAffinity":false,"TempPath":"/tmp/"},"RunAs":{"Uid":65534,"Gid":65534,"Groups":[65534,27]},"Connections":{"Fd":6,"Cell":3},"WarmUp":true,"Spare":true,"WorkerId":2,"Version":2}""";
        const string Successor = """{"OldMasterPid":4242,"ChannelFd":3,"LockFd":7,"Sockets":[{"Fd":4,"ListenEntry":"http://[::1]:0"},{"Fd":5,"ListenEntry":"unix:/a\nb"}],"ServingNice":5,"Version":2}""";
        var settings = new WorkerSettings(TimeSpan.FromSeconds(7), TimeSpan.FromMilliseconds(1500), new TimeSpan(1, 0, 2, 0), TimeSpan.FromSeconds(3),
            TimeSpan.FromMilliseconds(250), "/warm;up=1,2\n\"x\" <\u00e9>", 17)
        { KeyRingPath = "/k", ReadinessTag = "ready", HubAffinity = false, TempPath = "/tmp/" };
        var worker = new WorkerIdentity(2, 100, FdLayout.Channel, [new InheritedListener(4, Https: false), new InheritedListener(5, true)],
            "/tmp/a;b=c\n/control.sock", settings, new Credentials(65534, 65534, [65534, 27]), new InheritedCell(6, 3), WarmUp: true, Spare: true);
        var successor = new SuccessorIdentity(4242, FdLayout.Channel, 7, [new InheritedSocket(4, "http://[::1]:0"), new InheritedSocket(5, "unix:/a\nb")], 5);

        Assert.Equal(Worker, worker.Serialize());
        Assert.Equal(Successor, successor.Serialize());
        var parsed = WorkerIdentity.Parse(Worker);
        Assert.Equal(settings, parsed.Settings);
        Assert.Equal(worker.Listeners, parsed.Listeners);
        Assert.Equal([65534u, 27u], parsed.RunAs!.Groups);
        Assert.Equal((2, 100, 3, (InheritedCell?)new InheritedCell(6, 3), true, true, 2), (parsed.WorkerId, parsed.MasterPid, parsed.ControlFd, parsed.Connections, parsed.WarmUp, parsed.Spare, parsed.Version));
        Assert.Equal(Successor, SuccessorIdentity.Parse(Successor).Serialize());
    }

    [Fact]
    public void Absent_members_read_as_the_serializer_read_them_and_broken_json_is_refused()
    {
        var parsed = WorkerIdentity.Parse("""{"WorkerId":1,"MasterPid":7,"ControlFd":3,"Settings":null,"Unknown":[1,{"a":2}]}""");

        Assert.Equal((1, 7, 2), (parsed.WorkerId, parsed.MasterPid, parsed.Version));
        Assert.Empty(parsed.Listeners);
        Assert.Null(parsed.Settings);
        Assert.Null(parsed.RunAs);
        Assert.Null(parsed.Connections);
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => WorkerIdentity.Parse("""{"WorkerId":1,"MasterPid":"""));
    }
}
