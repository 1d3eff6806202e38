using System.Net;
using System.Text.RegularExpressions;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>
/// What `dotnet new webapp` gives, with a cookie sign-in: a form posted with the antiforgery token one worker handed out
/// is accepted by every worker, and so is the sign-in cookie, in this generation, after a HUP and after a USR2.
/// </summary>
public sealed partial class WebAppTests
{
    [Fact]
    public Task Forms_and_sign_ins_hold_on_every_worker_and_across_reloads() => FormsAndSignInsHoldAsync(user: null);

    [RootFact(AsOtherUser = true)]
    public Task Forms_and_sign_ins_hold_on_every_worker_and_across_reloads_as_nobody() => FormsAndSignInsHoldAsync(user: "nobody");

    private static async Task FormsAndSignInsHoldAsync(string? user)
    {
        using var keyRing = new TempKeyRing();
        var env = new Dictionary<string, string?>
        {
            ["Fugue__User"] = user,
            ["Fugue__DataProtectionKeysPath"] = keyRing.Path,
        };
        using var master = MasterProcess.Start("WebApp", env!);
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);
        using var client = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.Zero,
            CookieContainer = new CookieContainer(),
            AllowAutoRedirect = false,
        })
        { BaseAddress = new Uri(url), Timeout = MasterProcess.Deadline };
        client.DefaultRequestHeaders.ConnectionClose = true; // each request a new connection: they spread over the workers

        // Signed in first: an antiforgery token belongs to the user it was made for.
        Assert.StartsWith("signed in by worker", await client.GetStringAsync(new Uri("/signin", UriKind.Relative)), StringComparison.Ordinal);
        string form = await client.GetStringAsync(new Uri("/", UriKind.Relative));
        string token = TokenPattern().Match(form).Groups[1].Value;
        Assert.NotEmpty(token);

        await master.AcrossReloadsAsync(() => AcceptedByEveryWorkerAsync(client, token));
    }

    /// <summary>Posts the form and asks who is signed in until two workers have answered both; any refusal fails.</summary>
    private static async Task AcceptedByEveryWorkerAsync(HttpClient client, string token)
    {
        var posted = new HashSet<string>();
        var signedIn = new HashSet<string>();
        for (int i = 0; i < 400 && (posted.Count < 2 || signedIn.Count < 2); i++)
        {
            using var post = await client.PostAsync(new Uri("/", UriKind.Relative),
                new FormUrlEncodedContent([new("text", "hello"), new("__RequestVerificationToken", token)]));
            string body = await post.Content.ReadAsStringAsync();
            Assert.True(post.StatusCode == HttpStatusCode.OK, $"POST / answered {(int)post.StatusCode}: {body}");
            posted.Add(WorkerPattern().Match(body).Value);

            using var me = await client.GetAsync(new Uri("/me", UriKind.Relative));
            string who = await me.Content.ReadAsStringAsync();
            Assert.True(me.StatusCode == HttpStatusCode.OK, $"GET /me answered {(int)me.StatusCode} (sign-in refused): {who}");
            Assert.StartsWith("alice at worker", who, StringComparison.Ordinal);
            signedIn.Add(WorkerPattern().Match(who).Value);
        }
        // Two workers at least: right after a HUP, the last old worker may still answer a request it accepted before.
        Assert.True(posted.Count >= 2, $"the form was posted to {string.Join(", ", posted)}");
        Assert.True(signedIn.Count >= 2, $"the cookie was checked by {string.Join(", ", signedIn)}");
    }

    [GeneratedRegex("__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    [GeneratedRegex(@"worker \d+ pid \d+")]
    private static partial Regex WorkerPattern();
}
