using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Tests.Units;

/// <summary>The identities a master gives its children round-trip; absent members read as defaults.</summary>
public sealed class ProtocolTests
{
    [Fact]
    public void A_worker_identity_round_trips_with_separators_in_paths_and_the_settings_it_was_launched_with()
    {
        // Every option of the settings' table away from its default, so that one left out of the wire shows.
        var options = new FugueOptions
        {
            WorkerKillTimeout = TimeSpan.FromSeconds(7), WorkerTimeout = TimeSpan.FromMilliseconds(1500), WorkerBootTimeout = TimeSpan.FromMinutes(2),
            MasterPingInterval = TimeSpan.FromSeconds(3), LameDuckPeriod = TimeSpan.FromMilliseconds(250), WarmUpPath = "/warm;up=1,2\n\"x\"",
            WarmUpRequests = 17, ReadinessTag = "live", HubAffinity = false, TempPath = "/var/tmp/a b", MaxRequests = 1000, MaxRequestsJitter = 50,
            RequestTimeout = TimeSpan.FromSeconds(9),
        };
        var settings = WorkerSettings.From(options, "/keys");
        var identity = new WorkerIdentity(2, 100, FdLayout.Channel, [new InheritedListener(FdLayout.Listener(0), Https: false), new InheritedListener(5, true)],
            "/tmp/a;b=c\n/control.sock", settings, new Credentials(65534, 65534, [65534, 27]), new InheritedCell(FdLayout.AfterListeners(2), 3), WarmUp: true);

        string wire = identity.Serialize();
        var parsed = WorkerIdentity.Parse(wire);

        Assert.StartsWith("{", wire, StringComparison.Ordinal);
        Assert.Equal(identity.MasterSocketPath, parsed.MasterSocketPath);
        var back = parsed.Settings!.ToOptions();
        Assert.Equal((options.WorkerKillTimeout, options.WorkerTimeout, options.WorkerBootTimeout, options.MasterPingInterval, options.LameDuckPeriod),
            (back.WorkerKillTimeout, back.WorkerTimeout, back.WorkerBootTimeout, back.MasterPingInterval, back.LameDuckPeriod));
        Assert.Equal((options.WarmUpPath, options.WarmUpRequests, options.ReadinessTag, options.HubAffinity, options.TempPath),
            (back.WarmUpPath, back.WarmUpRequests, back.ReadinessTag, back.HubAffinity, back.TempPath));
        Assert.Equal((options.MaxRequests, options.MaxRequestsJitter, options.RequestTimeout, "/keys"),
            (back.MaxRequests, back.MaxRequestsJitter, back.RequestTimeout, parsed.Settings.KeyRingPath));
        Assert.Equal(identity.Listeners, parsed.Listeners);
        Assert.Equal([65534u, 27u], parsed.RunAs!.Groups);
        Assert.Equal((identity.WorkerId, identity.MasterPid, identity.ControlFd, identity.Connections, identity.WarmUp),
            (parsed.WorkerId, parsed.MasterPid, parsed.ControlFd, parsed.Connections, parsed.WarmUp));
    }

    [Fact]
    public void A_spare_keeps_its_flag_on_the_wire_and_takes_one_slot_once()
    {
        var spare = WorkerIdentity.Parse(new WorkerIdentity(0, 100, FdLayout.Channel, [], null, null, WarmUp: true, Spare: true, TierUp: true).Serialize());
        Assert.True(spare.Spare);
        Assert.True(spare.TierUp);
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
    public void A_successor_identity_round_trips()
    {
        var identity = new SuccessorIdentity(4242, FdLayout.Channel, null, [new InheritedSocket(4, "http://[::1]:0"), new InheritedSocket(5, "unix:/a\nb")], 5);

        var parsed = SuccessorIdentity.Parse(identity.Serialize());

        Assert.Equal(identity.Sockets, parsed.Sockets);
        Assert.Equal((identity.OldMasterPid, identity.ChannelFd, identity.LockFd, identity.ServingNice), (parsed.OldMasterPid, parsed.ChannelFd, parsed.LockFd, parsed.ServingNice));
    }

    [Fact]
    public void Absent_members_read_as_the_serializer_read_them_and_broken_json_is_refused()
    {
        var parsed = WorkerIdentity.Parse("""{"WorkerId":1,"MasterPid":7,"ControlFd":3,"Settings":null,"Unknown":[1,{"a":2}]}""");

        Assert.Equal((1, 7), (parsed.WorkerId, parsed.MasterPid));
        Assert.Empty(parsed.Listeners);
        Assert.Null(parsed.Settings);
        Assert.Null(parsed.RunAs);
        Assert.Null(parsed.Connections);
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => WorkerIdentity.Parse("""{"WorkerId":1,"MasterPid":"""));
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => SuccessorIdentity.Parse("old=4242\nchannel=3"));
    }
}
