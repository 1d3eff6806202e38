using System.Text;
using Fugue.Hosting;
using Microsoft.AspNetCore.Connections;

// The seed's own example: a raw TCP server (no HTTP) that greets each connection and closes it.
var builder = WebApplication.CreateBuilder(args);
builder.UseFugue();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(endpoint => endpoint.UseConnectionHandler<GreetingHandler>()));

var app = builder.Build();
app.Run();

internal sealed class GreetingHandler : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        await connection.Transport.Output.WriteAsync(Encoding.UTF8.GetBytes($"Hello from worker {FugueCluster.WorkerId} (pid {Environment.ProcessId})\n"));
        await connection.Transport.Output.CompleteAsync();
    }
}
