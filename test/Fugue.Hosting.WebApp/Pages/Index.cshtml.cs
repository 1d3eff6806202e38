using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Fugue.Hosting.WebApp.Pages;

/// <summary>A form page: the POST is accepted only with the antiforgery token the GET handed out.</summary>
public sealed class IndexModel : PageModel
{
    public string Answer { get; private set; } = "";

    public void OnGet() => Answer = $"form from worker {FugueCluster.WorkerId} pid {Environment.ProcessId}";

    public void OnPost(string text) => Answer = $"posted {text} to worker {FugueCluster.WorkerId} pid {Environment.ProcessId}";
}
