using System.Security.Claims;
using Fugue.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

var builder = WebApplication.CreateBuilder(args);
builder.UseFugue();
builder.Services.AddRazorPages();
builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie();
builder.Services.AddAuthorization();

var app = builder.Build();
app.UseRouting();
app.UseAuthentication();
app.UseAuthorization();
app.MapRazorPages();
app.MapGet("/signin", async (HttpContext context) =>
{
    await context.SignInAsync(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "alice")], CookieAuthenticationDefaults.AuthenticationScheme)));
    return $"signed in by worker {FugueCluster.WorkerId} pid {Environment.ProcessId}";
});
app.MapGet("/me", (ClaimsPrincipal user) => $"{user.Identity!.Name} at worker {FugueCluster.WorkerId} pid {Environment.ProcessId}").RequireAuthorization();
app.Run();
